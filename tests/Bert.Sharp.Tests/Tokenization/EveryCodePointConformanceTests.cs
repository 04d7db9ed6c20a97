using System.Globalization;
using System.Text;

namespace Bert.Sharp.Tests.Tokenization;

/// <summary>
/// Every Unicode scalar value, one word each, through Hugging Face's Rust tokenizer and ours: the character tables
/// (classes, decompositions, compositions, lower-case mappings) are checked whole, not sampled. Texts of 256 words are
/// compared first, and the words of a text that differs one by one, so a failure names the code points. Lower-casing
/// follows the Unicode version of the Rust that built the reference (17.0 in Tokenizers.DotNet today): a newer build
/// shows up here as a list of newly cased characters (tools/UnicodeTables/LowercaseAdditions.txt).
/// </summary>
public sealed class EveryCodePointConformanceTests
{
    private const int WordsPerText = 256;

    public static TheoryData<string> Families => ["bert-uncased", "bert-cased", "roberta", "roberta-nfd", "roberta-nfkc-lowercase", "xlmr"];

    [Theory]
    [MemberData(nameof(Families))]
    public void Every_code_point_gives_Hugging_Face_ids(string family)
    {
        (Func<string, int[]> reference, Func<string, int[]> ours, Func<int[], string> decode) = Tokenizers(family);
        var failures = new List<string>();
        for (int start = 0; start <= 0x10FFFF && failures.Count < 20; start += WordsPerText)
        {
            int[] codePoints = [.. Enumerable.Range(start, WordsPerText).Where(Rune.IsValid)];
            string text = Words(codePoints);
            if (reference(text).AsSpan().SequenceEqual(ours(text)))
            {
                continue;
            }

            foreach (int cp in codePoints)
            {
                string word = "a " + char.ConvertFromUtf32(cp) + "a";
                int[] expected = reference(word);
                int[] actual = ours(word);
                if (!expected.AsSpan().SequenceEqual(actual))
                {
                    failures.Add(string.Create(CultureInfo.InvariantCulture, $"U+{cp:X4}: HF '{decode(expected)}' [{string.Join(",", expected)}], ours '{decode(actual)}' [{string.Join(",", actual)}]"));
                }
            }
        }

        Assert.True(failures.Count == 0, $"{family}: {failures.Count} code points differ (the search stops after 20):\n{string.Join("\n", failures.Take(20))}");
    }

    private static string Words(int[] codePoints)
    {
        var text = new StringBuilder(codePoints.Length * 3);
        foreach (int cp in codePoints)
        {
            text.Append(' ').Append(char.ConvertFromUtf32(cp));
        }

        return text.ToString();
    }

    private static (Func<string, int[]> Reference, Func<string, int[]> Ours, Func<int[], string> Decode) Tokenizers(string family)
    {
        if (family.StartsWith("bert-", StringComparison.Ordinal))
        {
            HuggingFaceOracle bert = family == "bert-uncased" ? HuggingFaceOracle.Uncased : HuggingFaceOracle.Cased;
            return (bert.Encode, text => [.. bert.Ours.Encode(text)], ids => bert.Decode(ids));
        }

        SubwordOracle subword = SubwordConformanceTests.Oracle(family);
        return (text => subword.Encode(text), text => [.. subword.Ours.Encode(text)], ids => subword.Decode(ids));
    }
}
