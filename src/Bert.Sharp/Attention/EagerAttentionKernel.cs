using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Attention;

/// <summary>
/// Attention as the paper writes it: explicit scores, masked softmax, dropout, weighted sum. The reference every
/// other kernel is checked against, and the only one that can return probabilities. Memory grows with the square
/// of the sequence length.
/// </summary>
public sealed class EagerAttentionKernel : IAttentionKernel
{
    /// <summary>The shared instance.</summary>
    public static EagerAttentionKernel Instance { get; } = new();

    /// <inheritdoc />
    public string Name => "eager";

    /// <inheritdoc />
    public bool CanReturnProbabilities => true;

    /// <inheritdoc />
    public (Tensor Context, Tensor? Probabilities) Compute(Tensor query, Tensor key, Tensor value, Tensor? keyPaddingMask, double dropoutProbability, bool returnProbabilities)
    {
        AttentionKernels.CheckArguments(this, query, key, value, returnProbabilities);
        double scale = 1.0 / Math.Sqrt(query.shape[^1]);
        // Scaling the queries instead of the scores touches head_size / key_length as many elements (a quarter at 128 tokens);
        // torch's own math attention scales before the product too. Only rounding differs from scaling the scores.
        Tensor scores = Runtime.HeldScalars.Multiply(query, scale).matmul(key.transpose(-1, -2));
        if (keyPaddingMask is not null)
        {
            // [batch, key] -> [batch, 1, 1, key]; padded keys get the lowest finite value, as Hugging Face does.
            using Tensor blocked = keyPaddingMask.logical_not().unsqueeze(1).unsqueeze(1);
            scores = Runtime.HeldScalars.MaskedFillInPlace(scores, blocked, MinValue(scores.dtype));
        }

        Tensor probabilities = nn.functional.softmax(scores, -1);
        Tensor weights = dropoutProbability > 0 ? Modeling.FastDropout.Apply(probabilities, dropoutProbability) : probabilities;
        Tensor context = weights.matmul(value);
        return (context, returnProbabilities ? probabilities : null);
    }

    internal static double MinValue(ScalarType dtype) => dtype switch
    {
        ScalarType.Float16 => -65504.0,
        ScalarType.BFloat16 => -3.3895313892515355e38,
        ScalarType.Float64 => double.MinValue,
        _ => float.MinValue,
    };
}
