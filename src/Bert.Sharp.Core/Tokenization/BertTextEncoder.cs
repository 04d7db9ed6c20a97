namespace Bert.Sharp.Tokenization;

/// <summary>
/// Text → WordPiece tokens with offsets, exactly as Hugging Face's BERT pipeline (special tokens in the text,
/// BertNormalizer, BertPreTokenizer, WordPiece) but in one pass over the text with no per-token allocation.
/// </summary>
/// <remarks>Immutable; every mutable buffer is per call or per thread, so concurrent use is safe.</remarks>
internal sealed class BertTextEncoder(
    WordPieceVocabulary vocabulary,
    SpecialTokenMatcher specialTokens,
    bool cleanText,
    bool lowercase,
    bool stripAccents,
    bool chineseCharacters,
    int maxCharsPerWord,
    int unknownId)
{
    /// <summary>Appends the tokens of <paramref name="text"/> (no [CLS]/[SEP]) to <paramref name="output"/>, using
    /// <paramref name="word"/> (this thread's, from <see cref="TokenizerScratch"/>) as the word being built.</summary>
    public void Encode(ReadOnlySpan<char> text, TokenBuffer output, WordBuffer word)
    {
        word.Reset(maxCharsPerWord);
        int position = 0;
        while (position < text.Length)
        {
            (int index, int length, int id) = specialTokens.FindNext(text, position);
            int segmentEnd = index < 0 ? text.Length : index;
            EncodeSegment(text[position..segmentEnd], position, output, word);
            if (index < 0)
            {
                break;
            }

            output.Add(id, index, index + length);
            position = index + length;
        }
    }

    /// <summary>The same pipeline without the normalizer (clean-up, CJK spacing, lower-casing, accent stripping), for
    /// text that is already normalized.</summary>
    public BertTextEncoder WithoutNormalization() =>
        new(vocabulary, specialTokens, cleanText: false, lowercase: false, stripAccents: false, chineseCharacters: false, maxCharsPerWord, unknownId);

    /// <summary>
    /// Like <see cref="Encode"/> without pre-tokenization: the text between special tokens is one word, white space
    /// and punctuation included, normalized character by character (white space becomes a space under clean-up).
    /// </summary>
    public void EncodeAsOneWord(ReadOnlySpan<char> text, TokenBuffer output, WordBuffer word)
    {
        word.Reset(maxCharsPerWord);
        Span<char> normalized = stackalloc char[RuneNormalizer.MaxOutputChars];
        int position = 0;
        while (position < text.Length)
        {
            (int index, int length, int id) = specialTokens.FindNext(text, position);
            int segmentEnd = index < 0 ? text.Length : index;
            int i = position;
            while (i < segmentEnd)
            {
                int width = char.IsHighSurrogate(text[i]) && i + 1 < segmentEnd && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
                int codePoint = width == 2 ? char.ConvertToUtf32(text[i], text[i + 1]) : char.IsSurrogate(text[i]) ? 0xFFFD : text[i];
                int start = i;
                i += width;
                if (cleanText && BertCharacterClasses.IsRemoved(codePoint))
                {
                    continue;
                }

                int count = cleanText && BertCharacterClasses.IsWhitespace(codePoint) ? WriteSpace(normalized)
                    : (lowercase || stripAccents) ? RuneNormalizer.Normalize(codePoint, stripAccents, lowercase, normalized)
                    : new System.Text.Rune(codePoint).EncodeToUtf16(normalized);
                if (count > 0)
                {
                    word.Append(normalized[..count], start, i);
                }
            }

            Flush(word, output);
            if (index < 0)
            {
                break;
            }

            output.Add(id, index, index + length);
            position = index + length;
        }
    }

    private static int WriteSpace(Span<char> destination)
    {
        destination[0] = ' ';
        return 1;
    }

    private void EncodeSegment(ReadOnlySpan<char> text, int offset, TokenBuffer output, WordBuffer word)
    {
        Span<char> normalized = stackalloc char[RuneNormalizer.MaxOutputChars];
        int i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (c < 128)
            {
                switch (BertCharacterClasses.AsciiClass(c))
                {
                    case 0 when word.IsEmpty:
                    {
                        // Fast path: a run of ASCII letters and digits starting a word is scanned, lower-cased and
                        // copied in one loop; offsets stay implicit (one char per char).
                        i = word.AppendAsciiRun(text, i, offset, lowercase);
                        continue;
                    }

                    case 0:
                        word.Append(lowercase && char.IsAsciiLetterUpper(c) ? (char)(c | 0x20) : c, offset + i, offset + i + 1);
                        if (word.CodePoints > maxCharsPerWord)
                        {
                            // Skip the rest of an over-long ASCII word quickly: it becomes [UNK] anyway.
                            i++;
                            while (i < text.Length && text[i] < 128 && BertCharacterClasses.AsciiClass(text[i]) == 0)
                            {
                                word.Extend(offset + i + 1);
                                i++;
                            }

                            continue;
                        }

                        break;
                    case 1:
                        if (!cleanText)
                        {
                            word.Append(c, offset + i, offset + i + 1);
                        }

                        break;
                    case 2:
                        Flush(word, output);
                        break;
                    default:
                        Flush(word, output);
                        word.Append(c, offset + i, offset + i + 1);
                        Flush(word, output);
                        break;
                }

                i++;
                continue;
            }

            int codePoint;
            int width = 1;
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                codePoint = char.ConvertToUtf32(c, text[i + 1]);
                width = 2;
            }
            else
            {
                // A lone surrogate is not text: it stands for U+FFFD, as when the text is converted to UTF-8.
                codePoint = char.IsSurrogate(c) ? 0xFFFD : c;
            }

            int start = offset + i;
            int end = start + width;
            i += width;

            if (cleanText && BertCharacterClasses.IsRemoved(codePoint))
            {
                continue;
            }

            if (BertCharacterClasses.IsWhitespace(codePoint))
            {
                Flush(word, output);
                continue;
            }

            bool isolate = chineseCharacters && BertCharacterClasses.IsChineseCharacter(codePoint);
            if (isolate)
            {
                Flush(word, output);
            }

            int runBreak = 0;
            int count = (lowercase || stripAccents)
                ? RuneNormalizer.Normalize(codePoint, stripAccents, lowercase, normalized, out runBreak)
                : new System.Text.Rune(codePoint).EncodeToUtf16(normalized);
            int k = 0;
            while (k < count)
            {
                int partWidth = char.IsHighSurrogate(normalized[k]) && k + 1 < count ? 2 : 1;
                int part = partWidth == 2 ? char.ConvertToUtf32(normalized[k], normalized[k + 1]) : normalized[k];
                if (k == runBreak)
                {
                    word.BreakCombiningRun();
                }

                int combiningClass = stripAccents ? RuneNormalizer.CombiningClass(part) : 0;
                if (combiningClass > 0)
                {
                    // Decomposition reorders combining marks (canonical ordering) across characters: the kept ones
                    // (not non-spacing marks, so not stripped) move before marks of a higher class.
                    word.AppendCombining(normalized.Slice(k, partWidth), combiningClass, start, end);
                }
                else if (BertCharacterClasses.IsPunctuation(part))
                {
                    Flush(word, output);
                    word.Append(normalized.Slice(k, partWidth), start, end);
                    Flush(word, output);
                }
                else if (BertCharacterClasses.IsWhitespace(part))
                {
                    Flush(word, output);
                }
                else
                {
                    word.Append(normalized.Slice(k, partWidth), start, end);
                }

                k += partWidth;
            }

            if (runBreak == count)
            {
                word.BreakCombiningRun(); // The decomposition ends with a starter that accent stripping removed.
            }

            if (isolate)
            {
                Flush(word, output);
            }
        }

        Flush(word, output);
    }

    private void Flush(WordBuffer word, TokenBuffer output)
    {
        if (word.IsEmpty)
        {
            return;
        }

        if (word.CodePoints > maxCharsPerWord)
        {
            output.Add(unknownId, word.Start, word.End);
            word.Reset();
            return;
        }

        ReadOnlySpan<char> chars = word.Chars;
        int pieces = vocabulary.Split(chars, word.PieceIds, word.PieceEnds);
        if (pieces < 0)
        {
            output.Add(unknownId, word.Start, word.End);
        }
        else
        {
            int from = 0;
            for (int p = 0; p < pieces; p++)
            {
                int to = word.PieceEnds[p];
                output.Add(word.PieceIds[p], word.CharStart(from), word.CharEnd(to - 1));
                from = to;
            }
        }

        word.Reset();
    }
}
