using System.Text;
using CsCheck;

namespace Bert.Sharp.Tests.Tokenization;

/// <summary>Random Unicode strings (surrogate pairs, lone surrogates, combining marks, controls, CJK, emoji,
/// punctuation) must give Hugging Face's ids exactly, and offsets must point into the text.</summary>
public sealed class RandomUnicodePropertyTests
{
    private static readonly Gen<int> CodePoint = Gen.Frequency(
        (20, Gen.Int['a', 'z']),
        (6, Gen.Int['A', 'Z']),
        (8, Gen.OneOf(Gen.Const((int)' '), Gen.Const((int)'\t'), Gen.Const((int)'\n'), Gen.Const(0x3000), Gen.Const(0xA0))),
        (6, Gen.Int[0x21, 0x7F]),
        (4, Gen.Int[0x0, 0x1F]),
        (6, Gen.Int[0x80, 0x24F]),
        (5, Gen.Int[0x300, 0x36F]),
        (4, Gen.Int[0x370, 0x52F]),
        (3, Gen.Int[0x590, 0x6FF]),
        (3, Gen.Int[0x900, 0xE7F]),
        (3, Gen.Int[0x2000, 0x2BFF]),
        (4, Gen.Int[0x3000, 0x30FF]),
        (4, Gen.Int[0x4E00, 0x9FFF]),
        (3, Gen.Int[0xAC00, 0xD7A3]),
        (2, Gen.Int[0xD800, 0xDFFF]),
        (3, Gen.Int[0xF900, 0xFFFF]),
        (4, Gen.Int[0x1F300, 0x1FAFF]),
        (3, Gen.Int[0x10000, 0x10FFFF]),
        (2, Gen.OneOf(Gen.Const(0x200B), Gen.Const(0x200D), Gen.Const(0xFE0F), Gen.Const(0xFEFF), Gen.Const(0xAD))));

    private static readonly Gen<string> Text = CodePoint.Array[0, 40].Select(ToText);

    [Fact]
    public void Random_unicode_matches_Hugging_Face_uncased() => Check(HuggingFaceOracle.Uncased);

    [Fact]
    public void Random_unicode_matches_Hugging_Face_cased() => Check(HuggingFaceOracle.Cased);

    [Fact]
    public void Random_unicode_offsets_lie_inside_the_text_and_ascend()
    {
        BertTokenizer tokenizer = HuggingFaceOracle.Uncased.Ours;
        Text.Sample(text =>
        {
            BatchEncoding batch = tokenizer.EncodeBatch([text], new EncodingOptions { Truncation = TruncationStrategy.None, Padding = PaddingStrategy.None });
            TokenOffset[] offsets = batch.Offsets[0];
            int previous = 0;
            for (int t = 0; t < offsets.Length; t++)
            {
                if (batch.SpecialTokensMask[0][t] == 1)
                {
                    continue;
                }

                TokenOffset o = offsets[t];
                Assert.InRange(o.Start, previous, text.Length);
                Assert.InRange(o.End, o.Start + 1, text.Length);
                previous = o.Start;
            }
        }, iter: 2000);
    }

    private static void Check(HuggingFaceOracle oracle)
    {
        Text.Sample(text =>
        {
            int[] expected = oracle.Encode(text);
            int[] actual = oracle.Ours.Encode(text).ToArray();
            Assert.True(expected.SequenceEqual(actual),
                $"'{HuggingFaceConformanceTests.Escape(text)}': HF [{string.Join(",", expected)}] ours [{string.Join(",", actual)}]");
        }, iter: 5000);
    }

    // Code points to UTF-16; surrogate code points become lone surrogates on purpose.
    private static string ToText(int[] codePoints)
    {
        var builder = new StringBuilder();
        foreach (int cp in codePoints)
        {
            if (cp is >= 0xD800 and <= 0xDFFF)
            {
                builder.Append((char)cp);
            }
            else
            {
                builder.Append(char.ConvertFromUtf32(cp));
            }
        }

        return builder.ToString();
    }
}
