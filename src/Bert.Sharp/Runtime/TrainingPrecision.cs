namespace Bert.Sharp;

/// <summary>
/// The arithmetic of the forward pass (and so of the backward pass) in training and inference. Parameters, their gradients
/// and the optimizer state always stay fp32.
/// </summary>
/// <remarks>
/// The reduced precisions are mixed precision through LibTorch's autocast: matrix products and attention run in the reduced
/// type, LayerNorm, the residual stream, the loss and every parameter update in fp32. Where the hardware has no fast bf16
/// (CPUs without AVX512_BF16 or AMX), <see cref="BFloat16"/> still runs — genuinely in bf16, and much slower — after a
/// warning; the report and the log state the precision actually used (see docs/performance.md).
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "The members name number formats (torch.float32, torch.bfloat16, torch.float16), not .NET types.")]
public enum TrainingPrecision
{
    /// <summary>Everything in fp32 (the default: never slower than a reduced precision on a CPU without AMX).</summary>
    Float32,

    /// <summary>
    /// Mixed precision with bfloat16 matrix products and attention. Fast on CPUs with AVX512_BF16 or AMX and on CUDA GPUs of
    /// compute capability 8.0+; needs no loss scaling (bf16 has fp32's exponent range).
    /// </summary>
    BFloat16,

    /// <summary>
    /// Mixed precision with float16 matrix products and attention, with dynamic loss scaling against gradient underflow.
    /// CUDA only (float16 has no fast CPU path).
    /// </summary>
    Float16,

    /// <summary>
    /// The precision measured fastest on the hardware the model runs on: <see cref="BFloat16"/> on CUDA GPUs with native
    /// bf16 (compute capability 8.0+) and on CPUs with AMX-BF16 (Sapphire Rapids and later Xeons), <see cref="Float32"/>
    /// everywhere else — including CPUs with AVX512_BF16 but no AMX (Zen 4, Cooper Lake), where a bf16 training step
    /// measured no faster than fp32 (1.59 s vs 1.50 s per 32×128 step on Zen 4, docs/performance.md). The report
    /// (<see cref="TrainingReport.Precision"/>, <see cref="TrainingReport.PrecisionReason"/>) and the log say what ran and why.
    /// </summary>
    Auto,
}
