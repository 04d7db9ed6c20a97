namespace Bert.Sharp.Benchmarks.Gpu;

/// <summary>The synthetic training sets of the GPU check: words drawn from a small vocabulary whose labels follow from them.</summary>
internal static class GpuCheckData
{
    /// <summary>The vocabulary: filler words, then positive and negative words, then places and people.</summary>
    public static readonly string[] Words = ["the", "phone", "was", "really", "and", "screen", "battery", "it", "very", "quite", "good", "great", "fine", "bad", "awful", "poor", "paris", "london", "alice", "bob"];

    /// <summary>A synthetic set (see the type).</summary>
    public static List<LabeledExample> Sentiment(int count, int seed)
    {
        var rng = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(i =>
        {
            bool positive = i % 2 == 0;
            var words = Enumerable.Range(0, rng.Next(3, 12)).Select(_ => Words[rng.Next(10)]).ToList();
            words.Insert(rng.Next(words.Count + 1), Words[(positive ? 10 : 13) + rng.Next(3)]);
            return new LabeledExample(string.Join(' ', words), positive ? "positive" : "negative");
        })];
    }

    /// <summary>A synthetic set (see the type).</summary>
    public static List<TaggedSentence> Tagged(int count, int seed)
    {
        var rng = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ =>
        {
            var tokens = Enumerable.Range(0, rng.Next(4, 12)).Select(_ => Words[rng.Next(Words.Length)]).ToList();
            return new TaggedSentence(tokens, [.. tokens.Select(t => t is "paris" or "london" ? "B-LOC" : t is "alice" or "bob" ? "B-PER" : "O")]);
        })];
    }

    /// <summary>A synthetic set (see the type).</summary>
    public static List<TextPair> Pairs(int count, int seed)
    {
        var rng = new Random(seed);
        string Sentence() => string.Join(' ', Enumerable.Range(0, rng.Next(4, 10)).Select(_ => Words[rng.Next(Words.Length)]));
        return [.. Enumerable.Range(0, count).Select(_ => { string s = Sentence(); return new TextPair(s, s + " " + Words[rng.Next(Words.Length)]); })];
    }
}
