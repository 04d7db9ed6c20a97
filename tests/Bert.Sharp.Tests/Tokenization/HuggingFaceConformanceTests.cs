using System.Text;
using Xunit.Abstractions;

namespace Bert.Sharp.Tests.Tokenization;

/// <summary>Our ids against Hugging Face's (its Rust tokenizer) on the hand-assembled corpus, uncased and cased.</summary>
public sealed class HuggingFaceConformanceTests(ITestOutputHelper output)
{
    public static TheoryData<string> Oracles => new() { "uncased", "cased", "cased-small-vocab" };

    private static HuggingFaceOracle Oracle(string name) => name switch
    {
        "uncased" => HuggingFaceOracle.Uncased,
        "cased" => HuggingFaceOracle.Cased,
        _ => HuggingFaceOracle.CasedSmallVocabulary,
    };

    [Theory]
    [MemberData(nameof(Oracles))]
    public void Corpus_singles_match_Hugging_Face(string name)
    {
        HuggingFaceOracle oracle = Oracle(name);
        var mismatches = new List<string>();
        foreach (string text in ConformanceCorpus.Texts)
        {
            int[] expected = oracle.Encode(text);
            int[] actual = oracle.Ours.Encode(text).ToArray();
            if (!expected.SequenceEqual(actual))
            {
                mismatches.Add(Describe(oracle, text, expected, actual));
            }
        }

        output.WriteLine($"{name}: {ConformanceCorpus.Texts.Count} texts compared, {mismatches.Count} mismatches");
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches.Take(20)));
    }

    [Theory]
    [MemberData(nameof(Oracles))]
    public void Corpus_pairs_match_Hugging_Face(string name)
    {
        HuggingFaceOracle oracle = Oracle(name);
        IReadOnlyList<string> texts = ConformanceCorpus.Texts;
        int mismatches = 0;
        for (int i = 0; i + 1 < texts.Count; i += 2)
        {
            int[] expected = oracle.EncodePair(texts[i], texts[i + 1]);
            int[] actual = oracle.Ours.Encode(texts[i], texts[i + 1]).ToArray();
            if (!expected.SequenceEqual(actual))
            {
                mismatches++;
            }
        }

        Assert.Equal(0, mismatches);
    }

    [Theory]
    [MemberData(nameof(Oracles))]
    public void Decode_matches_Hugging_Face(string name)
    {
        HuggingFaceOracle oracle = Oracle(name);
        var mismatches = new List<string>();
        foreach (string text in ConformanceCorpus.Texts)
        {
            int[] ids = oracle.Encode(text);
            string expected = oracle.Decode(ids);
            string actual = oracle.Ours.Decode(ids);
            if (expected != actual)
            {
                mismatches.Add($"'{text}': HF '{expected}' vs ours '{actual}'");
            }
        }

        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches.Take(20)));
    }

    [Fact]
    public void Every_code_point_is_classified_as_Hugging_Face_does()
    {
        // Each code point in the planes that hold assigned characters, in contexts that reveal removal,
        // whitespace, punctuation, CJK isolation, accent stripping and lower-casing.
        foreach (HuggingFaceOracle oracle in new[] { HuggingFaceOracle.Uncased, HuggingFaceOracle.Cased })
        {
            var mismatches = new List<string>();
            var batch = new StringBuilder();
            foreach (int plane in new[] { 0, 1, 2, 3, 14 })
            {
                for (int cp = plane << 16; cp < (plane + 1) << 16; cp++)
                {
                    if (cp is >= 0xD800 and <= 0xDFFF)
                    {
                        continue;
                    }

                    string c = char.ConvertFromUtf32(cp);
                    string text = "A" + c + "b " + c + " x" + c + c;
                    int[] expected = oracle.Encode(text);
                    int[] actual = oracle.Ours.Encode(text).ToArray();
                    if (!expected.SequenceEqual(actual))
                    {
                        mismatches.Add($"U+{cp:X4}");
                    }
                }
            }

            output.WriteLine($"{oracle.Options.DoLowerCase}: {mismatches.Count} code points differ");
            Assert.True(mismatches.Count == 0, $"lowercase={oracle.Options.DoLowerCase}: {mismatches.Count} code points differ: {string.Join(", ", mismatches.Take(50))}");
        }
    }

    private static string Describe(HuggingFaceOracle oracle, string text, int[] expected, int[] actual) =>
        $"'{Escape(text)}'\n  HF:   {string.Join(" ", expected.Select(i => oracle.Ours.IdToToken(i)))}\n  ours: {string.Join(" ", actual.Select(i => oracle.Ours.IdToToken(i)))}";

    internal static string Escape(string text) =>
        string.Concat(text.Take(200).Select(c => c < 32 || c > 126 ? $"\\u{(int)c:X4}" : c.ToString()));
}
