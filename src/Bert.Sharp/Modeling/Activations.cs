using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>The feed-forward activations a BERT <c>config.json</c> can name in <c>hidden_act</c>.</summary>
internal static class Activations
{
    private static readonly double TanhGeluScale = Math.Sqrt(2.0 / Math.PI);

    /// <summary>The names accepted in <c>hidden_act</c>.</summary>
    public static IReadOnlyList<string> Names => Modeling.ArchitectureNames.Activations;

    public static bool IsKnown(string? name) => name is not null && Names.Contains(name);

    /// <summary>Returns the activation function for <paramref name="name"/>.</summary>
    public static Func<Tensor, Tensor> Get(string name) => name switch
    {
        "gelu" => x => nn.functional.gelu(x),
        "gelu_new" or "gelu_pytorch_tanh" or "gelu_fast" => TanhGelu,
        "relu" => x => nn.functional.relu(x),
        "silu" or "swish" => x => nn.functional.silu(x),
        _ => throw new ArgumentException($"hidden_act '{name}' is not supported; use one of {string.Join(", ", Names)}.", nameof(name)),
    };

    // The tanh approximation of GELU used by GPT-2 and BERT variants that name "gelu_new".
    private static Tensor TanhGelu(Tensor x)
    {
        using var scope = NewDisposeScope();
        // 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³))), step by step as the operators computed it before.
        Tensor cubic = Runtime.HeldScalars.Multiply(Runtime.HeldScalars.Power(x, 3), 0.044715);
        Tensor inner = Runtime.HeldScalars.Multiply(Runtime.HeldScalars.Add(x, cubic), TanhGeluScale);
        return (Runtime.HeldScalars.Multiply(x, 0.5) * Runtime.HeldScalars.Add(inner.tanh(), 1.0)).MoveToOuterDisposeScope();
    }
}
