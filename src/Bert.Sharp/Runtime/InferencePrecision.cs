namespace Bert.Sharp;

/// <summary>
/// The arithmetic of a predictor's forward pass (<see cref="InferenceOptions.Precision"/>). The weights stay fp32; a reduced
/// precision runs through LibTorch's autocast: matrix products and attention in the reduced type, LayerNorm, softmax and
/// the outputs in fp32.
/// </summary>
/// <remarks>
/// Training has its own <see cref="TrainingPrecision"/> (with an <c>Auto</c> measured on training steps and loss scaling
/// for fp16); inference has no loss and no scaler, so the two are separate types.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "The members name number formats (torch.float32, torch.bfloat16, torch.float16), not .NET types.")]
public enum InferencePrecision
{
    /// <summary>Everything in fp32 (the default).</summary>
    Float32,

    /// <summary>
    /// bfloat16 matrix products and attention: fast on CUDA GPUs of compute capability 8.0+ and on CPUs with AVX512_BF16 or
    /// AMX; on other CPUs it runs, much slower, after a warning.
    /// </summary>
    BFloat16,

    /// <summary>float16 matrix products and attention; CUDA only (a CPU device is refused).</summary>
    Float16,

    /// <summary>
    /// The rule of <see cref="TrainingPrecision.Auto"/>: <see cref="BFloat16"/> on CUDA GPUs with native bf16 (compute
    /// capability 8.0+) and on CPUs with AMX-BF16, <see cref="Float32"/> everywhere else. The predictor's <c>Precision</c> and
    /// the log say what was chosen and why.
    /// </summary>
    Auto,
}
