using Bert.Sharp.Tests.TestSupport;
using Bert.Sharp.Tokenization;
using CsCheck;

namespace Bert.Sharp.Tests.Tokenization;

/// <summary>
/// The hash table behind WordPiece (<see cref="PieceTable"/>, probed with its own hash) must give exactly what a
/// plain <c>Dictionary&lt;string,int&gt;</c> longest-match gives: every vocabulary entry, words made of pieces,
/// near misses and random strings.
/// </summary>
public sealed class WordPieceVocabularyTests
{
    private static readonly KeyValuePair<string, int>[] Entries =
        [.. File.ReadLines(TestAssets.UncasedVocabPath).Select((token, id) => new KeyValuePair<string, int>(token, id))];

    private static readonly WordPieceVocabulary Vocabulary = new(Entries, "##", TestAssets.UncasedVocabPath);

    private static readonly Dictionary<string, int> Reference = BuildReference();

    [Fact]
    public void Every_vocabulary_entry_is_found()
    {
        foreach ((string token, int id) in Entries.DistinctBy(e => e.Key))
        {
            Assert.True(Vocabulary.TryGetId(token, out int found));
            Assert.Equal(Reference[token], found);
            if (token.Length > 0 && !token.StartsWith("##", StringComparison.Ordinal))
            {
                Assert.Equal(ReferenceSplit(token), Split(token));
            }
        }
    }

    [Fact]
    public void Words_built_from_pieces_split_as_the_reference_does()
    {
        string[] pieces = [.. Entries.Select(e => e.Key).Where(k => k.Length > 0)];
        Gen.Int[0, pieces.Length - 1].Array[1, 5]
            .Select(indexes => string.Concat(indexes.Select(i => pieces[i].StartsWith("##", StringComparison.Ordinal) ? pieces[i][2..] : pieces[i])))
            .Sample(word => Assert.Equal(ReferenceSplit(word), Split(word)), iter: 20_000);
    }

    [Fact]
    public void Random_strings_split_as_the_reference_does()
    {
        // Short alphabets make near misses (prefixes of real pieces, one char off) common; surrogates check that
        // no piece ends inside a pair.
        Gen<char> chars = Gen.Frequency(
            (30, Gen.Char['a', 'z']),
            (5, Gen.Char['0', '9']),
            (3, Gen.Char['\u00e0', '\u00ff']),
            (2, Gen.Char['\u4e00', '\u4e20']),
            (2, Gen.OneOf(Gen.Const('\ud83d'), Gen.Const('\ude00'), Gen.Const('#'))));
        chars.Array[1, 40].Select(a => new string(a))
            .Sample(word => Assert.Equal(ReferenceSplit(word), Split(word)), iter: 20_000);
    }

    private static Dictionary<string, int> BuildReference()
    {
        var reference = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach ((string token, int id) in Entries)
        {
            reference[token] = id;
        }

        return reference;
    }

    private static int[]? Split(string word)
    {
        var ids = new int[word.Length + 1];
        var ends = new int[word.Length + 1];
        int count = Vocabulary.Split(word, ids, ends);
        return count < 0 ? null : ids[..count];
    }

    // Greedy longest-match-first, straight from the WordPiece definition, over the plain dictionary.
    private static int[]? ReferenceSplit(string word)
    {
        var ids = new List<int>();
        int start = 0;
        while (start < word.Length)
        {
            int end = word.Length;
            int found = -1;
            for (; end > start; end--)
            {
                if (end < word.Length && char.IsLowSurrogate(word[end]) && char.IsHighSurrogate(word[end - 1]))
                {
                    continue;
                }

                string candidate = (start > 0 ? "##" : string.Empty) + word[start..end];
                if (Reference.TryGetValue(candidate, out found))
                {
                    break;
                }
            }

            if (end == start)
            {
                return null;
            }

            ids.Add(found);
            start = end;
        }

        return [.. ids];
    }
}
