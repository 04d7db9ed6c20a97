namespace Bert.Sharp.Tokenization;

/// <summary>
/// Everything one encoding needs to mutate, kept per thread and reused so that encoding allocates nothing but its
/// result: the tokens of the first and second text and the word being built.
/// </summary>
/// <remarks>One object behind one <c>[ThreadStatic]</c> field, because each thread-static access costs a
/// thread-local lookup; encoding never calls out to user code, so a thread cannot re-enter while using it.</remarks>
internal sealed class TokenizerScratch
{
    [ThreadStatic]
    private static TokenizerScratch? _current;

    /// <summary>The tokens of the first (or only) text.</summary>
    public TokenBuffer First { get; } = new();

    /// <summary>The tokens of the second text of a pair.</summary>
    public TokenBuffer Second { get; } = new();

    /// <summary>The word being built.</summary>
    public WordBuffer Word { get; } = new();

    /// <summary>This thread's scratch.</summary>
    public static TokenizerScratch Current => _current ??= new TokenizerScratch();
}
