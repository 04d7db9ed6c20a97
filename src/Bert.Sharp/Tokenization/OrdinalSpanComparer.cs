namespace Bert.Sharp.Tokenization;

/// <summary>
/// Ordinal string comparer with a cheap FNV-1a hash that also hashes spans, so vocabulary lookups of text slices
/// neither allocate nor pay for the randomized default hash. The keys are the fixed vocabulary, so input text cannot
/// lengthen collision chains.
/// </summary>
internal sealed class OrdinalSpanComparer : IEqualityComparer<string>, IAlternateEqualityComparer<ReadOnlySpan<char>, string>
{
    public static OrdinalSpanComparer Instance { get; } = new();

    public bool Equals(string? x, string? y) => string.Equals(x, y, StringComparison.Ordinal);

    public int GetHashCode(string obj) => Hash(obj);

    public bool Equals(ReadOnlySpan<char> alternate, string other) => alternate.SequenceEqual(other);

    public int GetHashCode(ReadOnlySpan<char> alternate) => Hash(alternate);

    public string Create(ReadOnlySpan<char> alternate) => alternate.ToString();

    private static int Hash(ReadOnlySpan<char> text)
    {
        uint hash = 2166136261;
        foreach (char c in text)
        {
            hash = (hash ^ c) * 16777619;
        }

        return (int)hash;
    }
}
