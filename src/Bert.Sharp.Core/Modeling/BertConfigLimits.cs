namespace Bert.Sharp.Modeling;

/// <summary>
/// What a <c>config.json</c> must hold and how large a model it may describe. The bounds sit far above every published
/// BERT (BERT-large: 340 M parameters, vocabularies up to 250 k, hidden 1024) and far below what a hostile config could
/// make native code try to allocate (<c>vocab_size</c> 10^8 was a native allocation error), and they are checked before
/// any tensor exists.
/// </summary>
internal static class BertConfigLimits
{
    /// <summary>Largest <c>config.json</c> read (a config with 100,000 labels is a few megabytes).</summary>
    public const long MaxFileBytes = 16L << 20;

    /// <summary>Keys every pretrained BERT config carries; a file without one of them is not the config of a BERT checkpoint.</summary>
    public static IReadOnlyList<string> RequiredKeys { get; } = ["vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size"];

    /// <summary>
    /// Values of <c>model_type</c> this library builds: Hugging Face's <c>bert</c>, and <c>bert_sharp</c>, which folders
    /// saved by this library use when plain Hugging Face <c>BertModel</c> would compute something else. A config without
    /// <c>model_type</c> (early BERT releases) is read as <c>bert</c>.
    /// </summary>
    public static IReadOnlyList<string> SupportedModelTypes => EncoderFamily.SupportedModelTypes;

    /// <summary>Largest <c>vocab_size</c>.</summary>
    public const int MaxVocabSize = 10_000_000;

    /// <summary>Largest <c>hidden_size</c>.</summary>
    public const int MaxHiddenSize = 65_536;

    /// <summary>Largest <c>num_hidden_layers</c>.</summary>
    public const int MaxLayers = 1_024;

    /// <summary>Largest <c>intermediate_size</c>.</summary>
    public const int MaxIntermediateSize = 1 << 20;

    /// <summary>Largest <c>max_position_embeddings</c>.</summary>
    public const int MaxPositions = 1 << 20;

    /// <summary>Largest <c>type_vocab_size</c>.</summary>
    public const int MaxTypeVocabSize = 1 << 20;

    /// <summary>Most labels in <c>id2label</c>.</summary>
    public const int MaxLabels = 1 << 20;

    /// <summary>Most parameters a config may describe (16 GB of float32 weights).</summary>
    public const long MaxParameters = 4_000_000_000;

    /// <summary>
    /// Parameters of the model <paramref name="config"/> describes: embeddings, encoder layers, pooler and a classification
    /// head of <see cref="BertConfig.NumLabels"/> outputs. Call after the per-key bounds hold, so nothing overflows.
    /// </summary>
    public static long CountParameters(BertConfig config)
    {
        long h = config.HiddenSize;
        long i = config.IntermediateSize;
        long embeddings = ((long)config.VocabSize + config.MaxPositionEmbeddings + config.TypeVocabSize) * h + (2 * h);
        long layer = (4 * h * h) + (4 * h) + (2 * h * i) + i + h + (4 * h);
        long pooler = (h * h) + h;
        long head = (h * config.NumLabels) + config.NumLabels;
        return embeddings + (config.NumHiddenLayers * layer) + pooler + head;
    }
}
