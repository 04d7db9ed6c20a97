using Bert.Sharp.Modeling;
using System.Text.Json;
using System.Text.Json.Serialization;
using Bert.Sharp.IO;

namespace Bert.Sharp;

/// <summary>
/// The architecture of a BERT model: the Hugging Face <c>config.json</c> of a checkpoint, with the same
/// snake_case keys. Keys this type does not model are kept in <see cref="ExtensionData"/> and written
/// back unchanged, so a config survives a load/save round trip.
/// </summary>
/// <remarks>
/// Create one with an object initializer for a fresh model (<c>new BertConfig { HiddenSize = 128, ... }</c>),
/// or read a checkpoint's with <see cref="Load"/>. Call <see cref="Validate"/> before building a model;
/// <c>BertModel</c> does.
/// </remarks>
public sealed record BertConfig
{
    /// <summary>Size of the token vocabulary (<c>vocab_size</c>).</summary>
    public int VocabSize { get; init; } = 30522;

    /// <summary>Width of every hidden state (<c>hidden_size</c>).</summary>
    public int HiddenSize { get; init; } = 768;

    /// <summary>Number of encoder layers (<c>num_hidden_layers</c>).</summary>
    public int NumHiddenLayers { get; init; } = 12;

    /// <summary>Attention heads per layer (<c>num_attention_heads</c>); must divide <see cref="HiddenSize"/>.</summary>
    public int NumAttentionHeads { get; init; } = 12;

    /// <summary>Width of the feed-forward layer (<c>intermediate_size</c>).</summary>
    public int IntermediateSize { get; init; } = 3072;

    /// <summary>Feed-forward activation (<c>hidden_act</c>): <c>gelu</c> (exact), <c>gelu_new</c> / <c>gelu_pytorch_tanh</c> (tanh approximation), <c>relu</c>, <c>silu</c> / <c>swish</c>.</summary>
    public string HiddenAct { get; init; } = "gelu";

    /// <summary>Dropout after embeddings and every dense output (<c>hidden_dropout_prob</c>).</summary>
    public double HiddenDropoutProb { get; init; } = 0.1;

    /// <summary>Dropout on attention probabilities (<c>attention_probs_dropout_prob</c>).</summary>
    public double AttentionProbsDropoutProb { get; init; } = 0.1;

    /// <summary>Longest sequence the position embeddings cover (<c>max_position_embeddings</c>).</summary>
    public int MaxPositionEmbeddings { get; init; } = 512;

    /// <summary>Number of segment (token type) ids (<c>type_vocab_size</c>).</summary>
    public int TypeVocabSize { get; init; } = 2;

    /// <summary>Standard deviation of the normal initialisation of new weights (<c>initializer_range</c>).</summary>
    public double InitializerRange { get; init; } = 0.02;

    /// <summary>Epsilon of every LayerNorm (<c>layer_norm_eps</c>).</summary>
    public double LayerNormEps { get; init; } = 1e-12;

    /// <summary>Id of the padding token (<c>pad_token_id</c>); its embedding row is not trained.</summary>
    public int PadTokenId { get; init; }

    /// <summary>Position embedding type (<c>position_embedding_type</c>); only <c>absolute</c> is supported.</summary>
    public string PositionEmbeddingType { get; init; } = "absolute";

    /// <summary>Dropout before a classification head (<c>classifier_dropout</c>); <c>null</c> uses <see cref="HiddenDropoutProb"/>.</summary>
    public double? ClassifierDropout { get; init; }

    /// <summary>Model family (<c>model_type</c>).</summary>
    public string ModelType { get; init; } = "bert";

    /// <summary>Architectures the checkpoint was saved from (<c>architectures</c>), e.g. <c>BertForSequenceClassification</c>.</summary>
    public IReadOnlyList<string>? Architectures { get; init; }

    /// <summary>Class index to label name (<c>id2label</c>) of a classification checkpoint.</summary>
    [JsonPropertyName("id2label")]
    public IReadOnlyDictionary<int, string>? Id2Label { get; init; }

    /// <summary>Label name to class index (<c>label2id</c>) of a classification checkpoint.</summary>
    [JsonPropertyName("label2id")]
    public IReadOnlyDictionary<string, int>? Label2Id { get; init; }

    /// <summary>Classification problem (<c>problem_type</c>): <c>single_label_classification</c>, <c>multi_label_classification</c> or <c>regression</c>.</summary>
    public string? ProblemType { get; init; }

    /// <summary>
    /// Attention implementation (<c>attn_implementation</c>, as Hugging Face names it): <c>eager</c> (explicit scores; can
    /// return probabilities), <c>sdpa</c> (torch's fused <c>scaled_dot_product_attention</c>) or <c>chunked</c> (blockwise,
    /// memory linear in the sequence length). <c>null</c> picks <c>sdpa</c>.
    /// </summary>
    [JsonPropertyName("attn_implementation")]
    public string? AttentionImplementation { get; init; }

    /// <summary>Keys of the JSON file that this type does not model; written back unchanged.</summary>
    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; init; }

    /// <summary>The encoder family <see cref="ModelType"/> names (BERT, RoBERTa, XLM-RoBERTa, DistilBERT, ModernBERT).</summary>
    /// <exception cref="NotSupportedException">The model type is none of theirs.</exception>
    [JsonIgnore]
    public EncoderFamily Family => EncoderFamily.FromModelType(ModelType);

    /// <summary>
    /// The longest input the position embeddings cover: <see cref="MaxPositionEmbeddings"/>, less <c>pad_token_id + 1</c> for
    /// RoBERTa-style position numbering (RoBERTa's 514 positions hold 512 tokens).
    /// </summary>
    [JsonIgnore]
    public int MaxSequenceLength => MaxPositionEmbeddings - (EncoderFamily.TryFromModelType(ModelType)?.Positions == PositionNumbering.AfterPadding ? PadTokenId + 1 : 0);

    /// <summary>Width of one attention head.</summary>
    [JsonIgnore]
    public int HeadSize => NumAttentionHeads > 0 ? HiddenSize / NumAttentionHeads : 0;

    /// <summary>Number of labels of a classification head: the size of <see cref="Id2Label"/>, or 2 when none is set.</summary>
    [JsonIgnore]
    public int NumLabels => Id2Label is { Count: > 0 } map ? map.Count : 2;

    internal static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Reads and validates a Hugging Face <c>config.json</c>.</summary>
    /// <param name="path">The file, or a directory that holds <c>config.json</c>.</param>
    /// <remarks>
    /// The file must be a JSON object of at most 16 MB holding <c>vocab_size</c>, <c>hidden_size</c>,
    /// <c>num_hidden_layers</c>, <c>num_attention_heads</c> and <c>intermediate_size</c> (every pretrained BERT config
    /// does; a file without them is another file, and the defaults would build a model that matches no weights), and a
    /// <c>model_type</c>, when present, of <c>bert</c> or <c>bert_sharp</c>. The other keys take Hugging Face's defaults.
    /// </remarks>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is too large, not valid JSON, lacks a required key, names another
    /// model type, or a value is out of range; the message names the file and key.</exception>
    public static BertConfig Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string file = Directory.Exists(path) ? Path.Combine(path, FolderFileNames.Config) : path;
        if (!File.Exists(file))
        {
            throw new FileNotFoundException($"BERT config file '{file}' does not exist.", file);
        }

        long length = new FileInfo(file).Length;
        if (length > BertConfigLimits.MaxFileBytes)
        {
            throw new InvalidDataException($"'{file}' has {length} bytes; a BERT config.json is read up to {BertConfigLimits.MaxFileBytes} bytes.");
        }

        return Parse(File.ReadAllBytes(file), $"'{file}'");
    }

    /// <summary>Parses a config from JSON text and validates it, with the requirements of <see cref="Load"/>.</summary>
    /// <exception cref="InvalidDataException">The text is not a valid config; the message names the key.</exception>
    public static BertConfig FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return Parse(System.Text.Encoding.UTF8.GetBytes(json), "The config");
    }

    /// <summary>The config as Hugging Face JSON (snake_case keys, unknown keys kept).</summary>
    /// <remarks>A DistilBERT config is written with DistilBERT's own keys (<c>dim</c>, <c>n_layers</c>, ...), as Hugging Face's <c>DistilBertConfig</c> reads them; a ModernBERT one with ModernBERT's (<c>hidden_activation</c>, <c>norm_eps</c>, ...).</remarks>
    public string ToJson()
    {
        string json = JsonSerializer.Serialize(this, JsonOptions);
        EncoderFamily? family = EncoderFamily.TryFromModelType(ModelType);
        return family == EncoderFamily.DistilBert ? DistilBertConfigKeys.ToDistilBert(json)
            : family == EncoderFamily.ModernBert ? ModernBertConfigKeys.ToModernBert(json)
            : json;
    }

    /// <summary>Writes <c>config.json</c> atomically (a temporary file renamed into place).</summary>
    /// <param name="path">The file, or an existing directory to write <c>config.json</c> into.</param>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string file = Directory.Exists(path) ? Path.Combine(path, FolderFileNames.Config) : path;
        AtomicFile.WriteAllText(file, ToJson());
    }

    private static BertConfig Parse(byte[] bytes, string source)
    {
        ReadOnlyMemory<byte> utf8 = Utf8JsonInput.Prepare(bytes, source);
        BertConfig? config;
        try
        {
            using JsonDocument document = JsonDocument.Parse(utf8);
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{source} is JSON {root.ValueKind}, not a BERT config object.");
            }

            if (root.TryGetProperty("model_type", out JsonElement declared) && declared.ValueKind == JsonValueKind.String
                && EncoderFamily.TryFromModelType(declared.GetString()) is null)
            {
                throw new NotSupportedException($"{source}: model_type '{declared.GetString()}' is not supported; this library builds {string.Join(", ", EncoderFamily.SupportedModelTypes)} models (config.json key 'model_type').");
            }

            if (root.TryGetProperty("model_type", out JsonElement distil) && distil.ValueKind == JsonValueKind.String && distil.GetString() == EncoderFamily.DistilBert.ModelType)
            {
                return FinishParse(JsonSerializer.Deserialize<BertConfig>(DistilBertConfigKeys.FromDistilBert(root, source), JsonOptions), source);
            }

            if (root.TryGetProperty("model_type", out JsonElement modern) && modern.ValueKind == JsonValueKind.String && modern.GetString() == EncoderFamily.ModernBert.ModelType)
            {
                return FinishParse(JsonSerializer.Deserialize<BertConfig>(ModernBertConfigKeys.FromModernBert(root, source), JsonOptions), source);
            }

            foreach (string key in BertConfigLimits.RequiredKeys)
            {
                if (!root.TryGetProperty(key, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
                {
                    throw new InvalidDataException($"{source} lacks the required key '{key}' (every pretrained BERT config.json holds {string.Join(", ", BertConfigLimits.RequiredKeys)}); it is not the config of a BERT checkpoint.");
                }
            }

            if (root.TryGetProperty("model_type", out JsonElement modelType) && modelType.ValueKind != JsonValueKind.String)
            {
                throw new InvalidDataException($"{source}: model_type must be a string, found {modelType.GetRawText()}.");
            }

            config = JsonSerializer.Deserialize<BertConfig>(utf8.Span, JsonOptions);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source} is not a valid BERT config: {e.Message}", e);
        }

        return FinishParse(config, source);
    }

    private static BertConfig FinishParse(BertConfig? config, string source)
    {
        if (config is null)
        {
            throw new InvalidDataException($"{source} holds JSON null, not a BERT config object.");
        }

        try
        {
            config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{source}: {e.Message}", e);
        }
        catch (NotSupportedException e)
        {
            throw new NotSupportedException($"{source}: {e.Message}", e);
        }

        return config;
    }

    /// <summary>
    /// Checks <c>model_type</c>, every size (each with an upper bound, and the parameter count at most four billion, so a
    /// corrupt or hostile config cannot make native code allocate absurd amounts) and every probability. Throws
    /// <see cref="ArgumentException"/> naming the config key and value at fault.
    /// </summary>
    public void Validate()
    {
        if (ModelType is null || EncoderFamily.TryFromModelType(ModelType) is not { } family)
        {
            throw new ArgumentException($"model_type '{ModelType}' is not supported; this library builds {string.Join(", ", EncoderFamily.SupportedModelTypes)} models.");
        }

        RequireSize(VocabSize, "vocab_size", BertConfigLimits.MaxVocabSize);
        RequireSize(HiddenSize, "hidden_size", BertConfigLimits.MaxHiddenSize);
        RequireSize(NumHiddenLayers, "num_hidden_layers", BertConfigLimits.MaxLayers, allowZero: true);
        RequireSize(NumAttentionHeads, "num_attention_heads", BertConfigLimits.MaxHiddenSize);
        RequireSize(IntermediateSize, "intermediate_size", BertConfigLimits.MaxIntermediateSize);
        RequireSize(MaxPositionEmbeddings, "max_position_embeddings", BertConfigLimits.MaxPositions);
        RequireSize(TypeVocabSize, "type_vocab_size", BertConfigLimits.MaxTypeVocabSize, allowZero: !family.HasTokenTypes);
        if (family.Positions == PositionNumbering.AfterPadding && MaxPositionEmbeddings <= PadTokenId + 1)
        {
            throw new ArgumentException($"max_position_embeddings ({MaxPositionEmbeddings}) leaves no position for a token: {ModelType} numbers positions from pad_token_id + 1 ({PadTokenId + 1}).");
        }

        if (family == EncoderFamily.ModernBert)
        {
            // Throws NotSupportedException naming the key for what is not reproduced (rotary scaling, an unknown pooling).
            _ = ModernBertSettings.Read(this);
        }

        if (Id2Label is { Count: > BertConfigLimits.MaxLabels })
        {
            throw new ArgumentException($"id2label has {Id2Label.Count} labels; at most {BertConfigLimits.MaxLabels} are supported.");
        }

        long parameters = BertConfigLimits.CountParameters(this);
        if (parameters > BertConfigLimits.MaxParameters)
        {
            throw new ArgumentException($"the config describes a model of {parameters:N0} parameters ({parameters * 4.0 / (1L << 30):F0} GiB in float32), more than the {BertConfigLimits.MaxParameters:N0} this library builds; check vocab_size ({VocabSize}), hidden_size ({HiddenSize}), num_hidden_layers ({NumHiddenLayers}) and intermediate_size ({IntermediateSize}).");
        }

        if (HiddenSize % NumAttentionHeads != 0)
        {
            throw new ArgumentException($"hidden_size ({HiddenSize}) is not divisible by num_attention_heads ({NumAttentionHeads}).");
        }

        RequireProbability(HiddenDropoutProb, "hidden_dropout_prob");
        RequireProbability(AttentionProbsDropoutProb, "attention_probs_dropout_prob");
        if (ClassifierDropout is double classifierDropout)
        {
            RequireProbability(classifierDropout, "classifier_dropout");
        }

        if (!(LayerNormEps > 0) || double.IsInfinity(LayerNormEps))
        {
            throw new ArgumentException($"layer_norm_eps must be a positive number, got {LayerNormEps}.");
        }

        if (!(InitializerRange >= 0) || double.IsInfinity(InitializerRange))
        {
            throw new ArgumentException($"initializer_range must be a non-negative number, got {InitializerRange}.");
        }

        if (PadTokenId < 0 || PadTokenId >= VocabSize)
        {
            throw new ArgumentException($"pad_token_id ({PadTokenId}) is outside the vocabulary [0, {VocabSize}).");
        }

        if (!ArchitectureNames.Activations.Contains(HiddenAct))
        {
            throw new ArgumentException($"hidden_act '{HiddenAct}' is not supported; use one of {string.Join(", ", ArchitectureNames.Activations)}.");
        }

        if (!string.Equals(PositionEmbeddingType, "absolute", StringComparison.Ordinal))
        {
            throw new ArgumentException($"position_embedding_type '{PositionEmbeddingType}' is not supported; only 'absolute' is.");
        }

        if (AttentionImplementation is not null && !ArchitectureNames.AttentionImplementations.Contains(AttentionImplementation))
        {
            throw new ArgumentException($"attn_implementation '{AttentionImplementation}' is not supported; use one of {string.Join(", ", ArchitectureNames.AttentionImplementations)}.");
        }

        if (ProblemType is not null && ProblemType is not ("single_label_classification" or "multi_label_classification" or "regression"))
        {
            throw new ArgumentException($"problem_type '{ProblemType}' is not one of single_label_classification, multi_label_classification, regression.");
        }

        if (Id2Label is { Count: > 0 } id2Label)
        {
            for (int i = 0; i < id2Label.Count; i++)
            {
                if (!id2Label.ContainsKey(i))
                {
                    throw new ArgumentException($"id2label has {id2Label.Count} entries but no label for class {i}: class ids must be 0..{id2Label.Count - 1}.");
                }
            }
        }
    }

    private static void RequireSize(int value, string key, int max, bool allowZero = false)
    {
        if (value < 0 || (value == 0 && !allowZero))
        {
            throw new ArgumentException($"{key} must be {(allowZero ? "non-negative" : "positive")}, got {value}.");
        }

        if (value > max)
        {
            throw new ArgumentException($"{key} is {value}; at most {max} is supported (a larger value is a corrupt or hostile config).");
        }
    }

    private static void RequireProbability(double value, string key)
    {
        if (!(value >= 0 && value < 1))
        {
            throw new ArgumentException($"{key} must be in [0, 1), got {value}.");
        }
    }
}
