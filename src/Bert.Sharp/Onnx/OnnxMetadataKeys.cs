namespace Bert.Sharp.Onnx;

/// <summary>
/// Keys of the <c>metadata_props</c> the exporter writes into the model, read back by the serving package
/// (Bert.Sharp.Onnx keeps its own copy of these names; a test holds the two together).
/// </summary>
internal static class OnnxMetadataKeys
{
    /// <summary>The checkpoint architecture (<c>BertForSequenceClassification</c>, ...).</summary>
    public const string Architecture = "architecture";

    /// <summary>The task: <c>feature-extraction</c>, <c>text-classification</c>, <c>token-classification</c>, <c>sentence-embedding</c>.</summary>
    public const string Task = "task";

    /// <summary><c>id2label</c> as a JSON object (<c>{"0": "negative", "1": "positive"}</c>).</summary>
    public const string Id2Label = "id2label";

    /// <summary>The Hugging Face <c>problem_type</c> of a sequence classifier.</summary>
    public const string ProblemType = "problem_type";

    /// <summary>The pooling: <c>pooler</c>, <c>mean</c>, <c>cls</c>, <c>max</c>.</summary>
    public const string Pooling = "pooling";

    /// <summary><c>true</c> when the sentence embedding is L2-normalised.</summary>
    public const string Normalize = "normalize";

    /// <summary><c>none</c> or <c>dynamic_int8</c>.</summary>
    public const string Quantization = "quantization";

    /// <summary>With int8: the products' format (<see cref="OnnxInt8Format"/>: <c>unsigned_weights</c>, <c>signed_weights</c>, <c>reduced_range</c>, <c>blockwise</c>), so a server can tell whether the file saturates on CPUs without VNNI.</summary>
    public const string Int8Format = "int8_format";

    /// <summary>The longest input the position embeddings cover.</summary>
    public const string MaxPositionEmbeddings = "max_position_embeddings";
}
