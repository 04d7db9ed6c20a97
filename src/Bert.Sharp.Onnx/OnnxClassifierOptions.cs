namespace Bert.Sharp;

/// <summary>How <see cref="OnnxTextClassifier"/>, <see cref="OnnxTokenClassifier"/> and <see cref="OnnxSentenceEmbedder"/> load and run a model.</summary>
public sealed record OnnxClassifierOptions
{
    internal const string DefaultModelFileName = "model.onnx";

    /// <summary>
    /// The ONNX file inside the folder: <c>model.onnx</c> (default; in a folder without one, <c>onnx/model.onnx</c>, the
    /// layout of Hugging Face Optimum and transformers.js), or for example <c>model.int8.onnx</c> or
    /// <c>onnx/model_quantized.onnx</c>.
    /// </summary>
    public string ModelFileName { get; init; } = DefaultModelFileName;

    /// <summary>
    /// Threads ONNX Runtime uses inside one call; <c>null</c> (default) lets it choose (one per physical core). Set 1 when
    /// many requests run in parallel and throughput matters more than the latency of one.
    /// </summary>
    public int? IntraOpThreads { get; init; }

    /// <summary>
    /// Where loading logs (<c>null</c>: nowhere): a warning when the file's int8 products saturate on this CPU
    /// (<c>OnnxInt8Format.SignedWeights</c>, or an int8 export older than the recorded format, on x86 without VNNI).
    /// </summary>
    public Microsoft.Extensions.Logging.ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>
    /// Whether an int8 export in the default format (<c>OnnxInt8Format.UnsignedWeights</c>: uint8 weights around 128) has
    /// its weights re-encoded as int8 in memory when this CPU is x86 with VNNI (AVX-VNNI, or AVX512-VNNI), so that ONNX
    /// Runtime multiplies with its dot-product kernels instead of widening both sides to 16 bits. The numbers are the same
    /// (every product is exact either way); on an AMD EPYC Zen 4 the sentiment model's int8 export ran at 0.72–0.80 of
    /// float32's time at 32 × 128 instead of 0.99–1.08. Default <c>true</c>; the file on disk is not changed, and CPUs
    /// without VNNI (where int8 weights would saturate) load it as it is.
    /// </summary>
    public bool ReencodeInt8ForVnni { get; init; } = true;

    /// <summary>Longest input in tokens; longer texts are truncated. <c>null</c>: the model's and tokenizer's maximum.</summary>
    public int? MaxSequenceLength { get; init; }

    /// <summary>Texts per ONNX Runtime call in <c>PredictBatch</c> / <c>Embed</c> (texts of similar length are batched together). Default 32.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>How <see cref="OnnxTokenClassifier"/> merges word pieces into entities; default <see cref="AggregationStrategy.First"/>.</summary>
    public AggregationStrategy Aggregation { get; init; } = AggregationStrategy.First;

    /// <summary>
    /// Multi-label models (<see cref="OnnxTextClassifier"/>): a label is in <see cref="Prediction.Labels"/> when its sigmoid
    /// probability is at least this. Default 0.5; ignored by other models.
    /// </summary>
    public float MultiLabelThreshold { get; init; } = 0.5f;

    /// <summary>
    /// Multi-label models: thresholds for single labels, by label name, overriding <see cref="MultiLabelThreshold"/> for them.
    /// A name the model does not have is an error at loading. <c>null</c>: none.
    /// </summary>
    public IReadOnlyDictionary<string, float>? LabelThresholds { get; init; }

    internal void Validate()
    {
        MultiLabelThresholds.Validate(MultiLabelThreshold, LabelThresholds, nameof(OnnxClassifierOptions));
        ArgumentException.ThrowIfNullOrEmpty(ModelFileName);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(BatchSize);
        if (IntraOpThreads is int threads)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(threads, nameof(IntraOpThreads));
        }

        if (MaxSequenceLength is int max)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(max, 2, nameof(MaxSequenceLength));
        }
    }
}
