namespace Bert.Sharp.Modeling;

/// <summary>
/// The names a BERT <c>config.json</c> may use for its activation and attention implementation. Kept here, without the
/// tensor code behind them, so a config can be validated by any runtime; the TorchSharp model implements exactly these
/// (a test holds the two lists together).
/// </summary>
internal static class ArchitectureNames
{
    /// <summary>Values accepted in <c>hidden_act</c>.</summary>
    public static IReadOnlyList<string> Activations { get; } = ["gelu", "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "relu", "silu", "swish"];

    /// <summary>Values accepted in <c>attn_implementation</c>.</summary>
    public static IReadOnlyList<string> AttentionImplementations { get; } = ["eager", "sdpa", "chunked"];

    /// <summary>The attention implementation used when a config names none.</summary>
    public const string DefaultAttentionImplementation = "sdpa";
}
