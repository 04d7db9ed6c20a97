using Bert.Sharp.Tokenization;
using CsCheck;

namespace Bert.Sharp.Tests.Tokenization;

/// <summary>
/// The trie matcher of added special tokens (issue 10, item 8: it used to try every token at every candidate position)
/// finds exactly what the plain leftmost-longest search finds.
/// </summary>
public sealed class SpecialTokenMatcherTests
{
    [Fact]
    public void Finds_the_leftmost_longest_token_as_the_plain_search_does()
    {
        // Tokens and texts over a tiny alphabet, so prefixes overlap and near misses are common.
        Gen<string> word = Gen.String[Gen.Char["[]ab"], 1, 5];
        Gen.Select(word.List[0, 12], Gen.String[Gen.Char["[]abc"], 0, 40])
            .Sample((tokens, text) =>
            {
                (string, int)[] entries = tokens.Select((t, i) => (t, i)).ToArray();
                var matcher = new SpecialTokenMatcher(entries);
                int from = 0;
                while (true)
                {
                    (int index, int length, int id) = matcher.FindNext(text, from);
                    (int Index, int Length, int Id) expected = PlainSearch(entries, text, from);
                    Assert.Equal(expected, (index, length, id));
                    if (index < 0)
                    {
                        break;
                    }

                    from = index + length;
                }
            }, iter: 2_000);
    }

    [Fact]
    public void Thousands_of_added_tokens_match_in_one_pass()
    {
        (string, int)[] tokens = Enumerable.Range(0, 5_000).Select(i => ($"<extra_id_{i}>", 1_000 + i)).ToArray();
        var matcher = new SpecialTokenMatcher(tokens);
        string text = string.Concat(Enumerable.Repeat("some text <extra_id_4999> and <extra_id_12> then <extra_id_> ", 200));
        int found = 0;
        int from = 0;
        var ids = new List<int>();
        while (matcher.FindNext(text, from) is { Index: >= 0 } match)
        {
            ids.Add(match.Id);
            found++;
            from = match.Index + match.Length;
        }

        Assert.Equal(400, found);
        Assert.Equal([1_000 + 4_999, 1_000 + 12], ids.Take(2));
    }

    [Fact]
    public void Empty_and_repeated_texts_keep_the_first_id()
    {
        var matcher = new SpecialTokenMatcher([(string.Empty, 9), ("[X]", 1), ("[X]", 2)]);
        Assert.Equal((2, 3, 1), matcher.FindNext("ab[X]", 0));
        Assert.Equal((-1, 0, 0), new SpecialTokenMatcher([]).FindNext("[X]", 0));
    }

    // The former implementation: at each position, every token, longest first.
    private static (int Index, int Length, int Id) PlainSearch((string Text, int Id)[] tokens, string text, int from)
    {
        var ordered = tokens.Where(t => t.Text.Length > 0).DistinctBy(t => t.Text, StringComparer.Ordinal).OrderByDescending(t => t.Text.Length).ToArray();
        for (int i = from; i < text.Length; i++)
        {
            foreach ((string candidate, int id) in ordered)
            {
                if (text.AsSpan(i).StartsWith(candidate, StringComparison.Ordinal))
                {
                    return (i, candidate.Length, id);
                }
            }
        }

        return (-1, 0, 0);
    }
}
