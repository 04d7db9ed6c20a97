"""Converts the hand-annotated master (amazon_ner.annotated.txt) to amazon_ner.conll.

The labels come from the master file, written by hand; this script only tokenises (TAGGING_GUIDE.md,
"Tokenisation") and writes IOB2 tags. It checks that removing the markup gives back the source sentence
character for character and that every entity starts and ends on a token boundary.

Run from this folder:  python3 make_conll.py
"""
import re
import sys

SOURCE = '../../data/amazon_cells_labelled.txt'
MASTER = 'amazon_ner.annotated.txt'
OUTPUT = 'amazon_ner.conll'
TYPES = ('PRODUCT', 'BRAND', 'ORG', 'PERSON', 'LOC')
MARK = re.compile(r'\[([^\[\]|]+)\|(' + '|'.join(TYPES) + r')\]')

AN = r'[^\W_]'  # a letter or digit
TOKEN = re.compile(
    r'(?:[A-Za-z]\.){2,}'                                          # i.e.  U.S.
    r'|' + AN + r'+(?:(?:[-&\']|(?<=\d)[.,](?=\d))' + AN + r'+)*'  # words: well-made AT&T don't 1.3 v1.15g
    r'|([^\w\s]|_)\1*')                                             # a run of one punctuation character: ... !! $$$
CLITIC = re.compile(r"(?i)^(.+?)(n't|'s|'re|'ve|'ll|'d|'m)$")


def tokenize(text):
    """Yields (start, end) character spans of the tokens of text."""
    for chunk in re.finditer(r'\S+', text):
        pos, s = 0, chunk.group()
        while pos < len(s):
            m = TOKEN.match(s, pos)
            assert m, (text, s, pos)
            start, end = chunk.start() + m.start(), chunk.start() + m.end()
            c = CLITIC.match(m.group())
            if c and c.group(1)[-1:].isalnum():
                cut = start + len(c.group(1))
                yield start, cut
                yield cut, end
            else:
                yield start, end
            pos = m.end()


def parse(line, number):
    """Returns the plain sentence and its entity spans [(start, end, type)]."""
    plain, spans, last = [], [], 0
    length = 0
    for m in MARK.finditer(line):
        before = line[last:m.start()]
        plain.append(before)
        length += len(before)
        spans.append((length, length + len(m.group(1)), m.group(2)))
        plain.append(m.group(1))
        length += len(m.group(1))
        last = m.end()
    plain.append(line[last:])
    text = ''.join(plain)
    if re.search(r'\|(?:' + '|'.join(TYPES) + r')\]', MARK.sub('', line)):
        sys.exit(f'{MASTER}:{number}: malformed markup: {line}')
    return text, spans


def main():
    sources = [l.rstrip('\n').split('\t')[0] for l in open(SOURCE, encoding='utf-8')]
    masters = [l.rstrip('\n') for l in open(MASTER, encoding='utf-8')]
    if len(sources) != len(masters):
        sys.exit(f'{MASTER}: {len(masters)} lines, but {SOURCE} has {len(sources)}')
    out = []
    for number, (source, master) in enumerate(zip(sources, masters), 1):
        text, spans = parse(master, number)
        if text != source:
            sys.exit(f'{MASTER}:{number}: text differs from {SOURCE}:{number}:\n  {text}\n  {source}')
        tokens = list(tokenize(text))
        starts = {s for s, _ in tokens}
        ends = {e for _, e in tokens}
        tags = ['O'] * len(tokens)
        for start, end, kind in spans:
            if start not in starts or end not in ends:
                sys.exit(f'{MASTER}:{number}: entity "{text[start:end]}" does not start and end on token boundaries')
            inside = [i for i, (s, e) in enumerate(tokens) if s >= start and e <= end]
            for k, i in enumerate(inside):
                tags[i] = ('B-' if k == 0 else 'I-') + kind
        out.append(f'# id = {number}')
        out.append(f'# text = {text}')
        out.extend(f'{text[s:e]}\t{t}' for (s, e), t in zip(tokens, tags))
        out.append('')
    with open(OUTPUT, 'w', encoding='utf-8', newline='\n') as f:
        f.write('\n'.join(out))
    print(f'{len(masters)} sentences written to {OUTPUT}')


if __name__ == '__main__':
    main()
