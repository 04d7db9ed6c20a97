#!/usr/bin/env python3
"""Trains a small SentencePiece Unigram model (nmt_nfkc) on corpus.txt and converts it to a Hugging Face
tokenizer.json the way transformers' XLMRobertaConverter does (Precompiled normalizer + Replace(' {2,}', ' '),
Metaspace '▁' prepend_scheme always, XLM-R template <s> A </s></s> B </s>, <mask> appended).
Needs Debian's python3-sentencepiece: /usr/bin/python3 make_unigram_tokenizer.py OUT_DIR
Written for Bert.Sharp tests (tests/Bert.Sharp.Tests/TestData/unigram-xlmr/tokenizer.json); no third-party data."""
import base64, json, os, sys, tempfile
import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as pb

here = os.path.dirname(os.path.abspath(__file__))
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
with tempfile.TemporaryDirectory() as tmp:
    prefix = os.path.join(tmp, "m")
    spm.SentencePieceTrainer.train(input=os.path.join(here, "corpus.txt"), model_prefix=prefix, vocab_size=2000,
        model_type="unigram", normalization_rule_name="nmt_nfkc", character_coverage=0.9995,
        hard_vocab_limit=False, seed_sentencepiece_size=20000, num_threads=1)
    proto = pb.ModelProto()
    proto.ParseFromString(open(prefix + ".model", "rb").read())

vocab = [["<s>", 0.0], ["<pad>", 0.0], ["</s>", 0.0], ["<unk>", 0.0]]
vocab += [[p.piece, p.score] for p in proto.pieces[3:]]
vocab += [["<mask>", 0.0]]
mask = len(vocab) - 1
def added(i, c, lstrip=False):
    return {"id": i, "content": c, "single_word": False, "lstrip": lstrip, "rstrip": False, "normalized": False, "special": True}
def sp(t, ty=0): return {"SpecialToken": {"id": t, "type_id": ty}}
def seq(t, ty=0): return {"Sequence": {"id": t, "type_id": ty}}
tok = {
    "version": "1.0", "truncation": None, "padding": None,
    "added_tokens": [added(0, "<s>"), added(1, "<pad>"), added(2, "</s>"), added(3, "<unk>"), added(mask, "<mask>", True)],
    "normalizer": {"type": "Sequence", "normalizers": [
        {"type": "Precompiled", "precompiled_charsmap": base64.b64encode(proto.normalizer_spec.precompiled_charsmap).decode()},
        {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}]},
    "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
    "post_processor": {"type": "TemplateProcessing",
        "single": [sp("<s>"), seq("A"), sp("</s>")],
        "pair": [sp("<s>"), seq("A"), sp("</s>"), sp("</s>"), seq("B"), sp("</s>")],
        "special_tokens": {"<s>": {"id": "<s>", "ids": [0], "tokens": ["<s>"]}, "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}}},
    "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
    "model": {"type": "Unigram", "unk_id": 3, "vocab": vocab, "byte_fallback": False},
}
json.dump(tok, open(os.path.join(out, "tokenizer.json"), "w", encoding="utf-8"), ensure_ascii=False)
print("pieces", len(vocab))
