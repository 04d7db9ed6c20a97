using Bert.Sharp.Tests.TestSupport;

namespace Bert.Sharp.Tests.Tokenization;

/// <summary>
/// A small cased WordPiece vocabulary for the tests (no cased BERT vocabulary is available offline): the
/// special tokens, upper- and lower-case pieces, accented letters, some CJK and punctuation, with ## pieces.
/// </summary>
internal static class CasedVocabulary
{
    private static readonly Lazy<string> PathLazy = new(Write);

    public static string Path => PathLazy.Value;

    private static string Write()
    {
        var tokens = new List<string> { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" };
        string[] words = ["The", "the", "Hello", "hello", "World", "world", "Paris", "paris", "Café", "café", "Cafe", "naïve", "Über", "über",
            "New", "York", "USA", "I", "i", "a", "A", "is", "Is", "un", "##able", "##ing", "##s", "##ed", "##é", "##É", "##ß", "Straße",
            "İstanbul", "Ελλάδα", "ελλάδα", "Москва", "москва", "日", "本", "語", "中", "文", "東京", "##京", "한국어", "##어"];
        tokens.AddRange(words);
        for (char c = '!'; c <= '~'; c++)
        {
            tokens.Add(c.ToString());
            if (char.IsLetterOrDigit(c))
            {
                tokens.Add("##" + c);
            }
        }

        foreach (char c in "éèêëÉÈàâäÀÄöÖüÜßçÇñÑαβγΑΒΓабвАБВ")
        {
            tokens.Add(c.ToString());
            tokens.Add("##" + c);
        }

        string path = TestTemp.NewFilePath("cased-vocab", ".txt");
        File.WriteAllLines(path, tokens.Distinct(StringComparer.Ordinal));
        return path;
    }
}
