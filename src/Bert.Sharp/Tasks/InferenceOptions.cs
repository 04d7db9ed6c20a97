namespace Bert.Sharp;

/// <summary>
/// What every TorchSharp predictor (<see cref="TextClassifier"/>, <see cref="TokenClassifier"/>,
/// <see cref="SentenceEmbedder"/>) shares in its options: besides loading (<see cref="ModelLoadOptions"/>), the longest
/// input, the batch size and the arithmetic of inference, checked by one <see cref="Validate"/>.
/// </summary>
public abstract record InferenceOptions : ModelLoadOptions
{
    /// <summary>
    /// Longest input in tokens (longer texts are truncated); <c>null</c> is the model's and tokenizer's maximum (for a
    /// sentence-transformers folder, its <c>max_seq_length</c>).
    /// </summary>
    public int? MaxSequenceLength { get; init; }

    /// <summary>Texts per forward pass in <c>PredictBatch</c> or <c>Embed</c> (similar lengths are batched together).</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>
    /// The arithmetic of inference: <see cref="InferencePrecision.BFloat16"/> runs matrix products and attention in bf16
    /// (autocast; LayerNorm, softmax and the outputs stay fp32), fast where the CPU has AVX512_BF16 or AMX, or on CUDA (on other
    /// CPUs it runs, slower, after a warning); <see cref="InferencePrecision.Float16"/> needs a CUDA device. The predictor's
    /// <c>Precision</c> states what runs.
    /// </summary>
    public InferencePrecision Precision { get; init; } = InferencePrecision.Float32;

    /// <summary>
    /// Whether each linear weight also gets a copy packed for Bert.Sharp's few-row kernel (default <c>true</c>): on CPUs with
    /// AVX-512, float32 inputs of up to 128 tokens in all (one short text, a few texts) multiply through it, on AVX2 CPUs
    /// up to 24 (bf16 <see cref="Precision"/> keeps LibTorch's bf16 products) — MiniLM's products for
    /// a 16-token text in about 60 % of LibTorch's time on an AMD EPYC Zen 4 (docs/performance.md, "Few-row products") —
    /// at the price of the linear weights' size again in memory (MiniLM: 43 MB; BERT-base: 340 MB). Nothing is packed on
    /// other CPUs or devices, with <c>false</c>, or with <c>BERT_SHARP_SMALL_ROWS=0</c> in the environment. The AVX2 tile
    /// was timed only on an AVX-512 CPU with 256-bit vectors so far.
    /// </summary>
    public bool PackWeights { get; init; } = true;

    /// <summary>Checks every value; throws <see cref="ArgumentException"/> naming the option at fault.</summary>
    public virtual void Validate()
    {
        if (BatchSize <= 0)
        {
            throw new ArgumentException($"{nameof(BatchSize)} must be positive, got {BatchSize}.");
        }

        if (MaxSequenceLength is < 2)
        {
            throw new ArgumentException($"{nameof(MaxSequenceLength)} must be at least 2 ([CLS] and [SEP]), got {MaxSequenceLength}.");
        }

        if (!Enum.IsDefined(Precision))
        {
            throw new ArgumentException($"{nameof(Precision)} must be an {nameof(InferencePrecision)}, got {(int)Precision}.");
        }
    }
}
