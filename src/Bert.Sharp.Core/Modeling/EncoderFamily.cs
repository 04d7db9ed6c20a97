namespace Bert.Sharp;

/// <summary>
/// An encoder family this library builds, chosen by a <c>config.json</c>'s <c>model_type</c> as Hugging Face's Auto classes
/// choose theirs: BERT, RoBERTa, XLM-RoBERTa, DistilBERT or ModernBERT. It says, as types and values rather than parameter names, how the
/// family differs: the base model's attribute name in task models (<c>bert</c>, <c>roberta</c>, <c>distilbert</c>), whether it
/// has token types and a pooler, how positions are numbered, which layer layout it uses, and the Hugging Face class names a saved
/// folder declares.
/// </summary>
public sealed class EncoderFamily
{
    private EncoderFamily(string modelType, string basePrefix, EncoderLayerLayout layout, PositionNumbering positions, string architecturePrefix, bool hasTokenTypes, bool hasPooler, SequenceHeadLayout sequenceHead)
    {
        ModelType = modelType;
        BasePrefix = basePrefix;
        LayerLayout = layout;
        Positions = positions;
        ArchitecturePrefix = architecturePrefix;
        HasTokenTypes = hasTokenTypes;
        HasPooler = hasPooler;
        SequenceHead = sequenceHead;
    }

    /// <summary>BERT (<c>model_type</c> <c>bert</c>; also this library's <c>bert_sharp</c>).</summary>
    public static EncoderFamily Bert { get; } = new("bert", "bert", EncoderLayerLayout.Bert, PositionNumbering.FromZero, "Bert", hasTokenTypes: true, hasPooler: true, SequenceHeadLayout.Linear);

    /// <summary>RoBERTa (<c>roberta</c>): BERT's layers, positions counted from <c>pad_token_id + 1</c> over real tokens, a two-layer classification head on <c>&lt;s&gt;</c>.</summary>
    public static EncoderFamily Roberta { get; } = new("roberta", "roberta", EncoderLayerLayout.Bert, PositionNumbering.AfterPadding, "Roberta", hasTokenTypes: true, hasPooler: true, SequenceHeadLayout.DenseTanhOutProjection);

    /// <summary>XLM-RoBERTa (<c>xlm-roberta</c>): RoBERTa's model under its own name.</summary>
    public static EncoderFamily XlmRoberta { get; } = new("xlm-roberta", "roberta", EncoderLayerLayout.Bert, PositionNumbering.AfterPadding, "XLMRoberta", hasTokenTypes: true, hasPooler: true, SequenceHeadLayout.DenseTanhOutProjection);

    /// <summary>DistilBERT (<c>distilbert</c>): no token types, no pooler, its own layer names, a pre-classifier with ReLU before the classifier.</summary>
    public static EncoderFamily DistilBert { get; } = new("distilbert", "distilbert", EncoderLayerLayout.DistilBert, PositionNumbering.FromZero, "DistilBert", hasTokenTypes: false, hasPooler: false, SequenceHeadLayout.PreClassifierRelu);

    /// <summary>
    /// ModernBERT (<c>modernbert</c>): no token types, no pooler, no position table (rotary positions), pre-LayerNorm layers
    /// with gated feed-forwards and alternating global / sliding-window attention under <c>model.layers.N</c>, a final norm,
    /// and a prediction head (<c>head.dense</c>, <c>head.norm</c>) before the classifier.
    /// </summary>
    public static EncoderFamily ModernBert { get; } = new("modernbert", "model", EncoderLayerLayout.ModernBert, PositionNumbering.Rotary, "ModernBert", hasTokenTypes: false, hasPooler: false, SequenceHeadLayout.PredictionHead);

    /// <summary>Every family, BERT first.</summary>
    public static IReadOnlyList<EncoderFamily> All { get; } = [Bert, Roberta, XlmRoberta, DistilBert, ModernBert];

    /// <summary>The <c>model_type</c> a saved <c>config.json</c> declares.</summary>
    public string ModelType { get; }

    /// <summary>The base model's attribute name in Hugging Face task models: the prefix of encoder keys (<c>roberta.encoder.layer.0…</c>).</summary>
    public string BasePrefix { get; }

    /// <summary>How an encoder layer is built and named.</summary>
    public EncoderLayerLayout LayerLayout { get; }

    /// <summary>How position ids are numbered when the caller gives none.</summary>
    public PositionNumbering Positions { get; }

    /// <summary>The start of the family's Hugging Face class names (<c>Roberta</c> in <c>RobertaForSequenceClassification</c>).</summary>
    public string ArchitecturePrefix { get; }

    /// <summary>Whether the embeddings add token type (segment) embeddings.</summary>
    public bool HasTokenTypes { get; }

    /// <summary>Whether the base model can have a pooler (<c>pooler.dense</c>).</summary>
    public bool HasPooler { get; }

    /// <summary>The layout of the family's sequence classification head.</summary>
    public SequenceHeadLayout SequenceHead { get; }

    /// <summary>The name of the attribute holding the layer stack (<c>encoder</c>, DistilBERT's <c>transformer</c>, ModernBERT's <c>layers</c>).</summary>
    public string EncoderAttribute => LayerLayout switch
    {
        EncoderLayerLayout.DistilBert => "transformer",
        EncoderLayerLayout.ModernBert => "layers",
        _ => "encoder",
    };

    /// <summary>The name of encoder layer <paramref name="index"/> inside the base model (<c>encoder.layer.3</c>, <c>transformer.layer.3</c>, ModernBERT's <c>layers.3</c>).</summary>
    public string LayerName(int index) => LayerLayout == EncoderLayerLayout.ModernBert
        ? $"layers.{index.ToString(System.Globalization.CultureInfo.InvariantCulture)}"
        : $"{EncoderAttribute}.layer.{index.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

    /// <summary>The Hugging Face class of the base model (<c>RobertaModel</c>).</summary>
    public string BaseArchitecture => ArchitecturePrefix + "Model";

    /// <summary>The Hugging Face sequence classification class (<c>RobertaForSequenceClassification</c>).</summary>
    public string SequenceClassificationArchitecture => ArchitecturePrefix + "ForSequenceClassification";

    /// <summary>The Hugging Face token classification class (<c>RobertaForTokenClassification</c>).</summary>
    public string TokenClassificationArchitecture => ArchitecturePrefix + "ForTokenClassification";

    /// <summary>
    /// The family a <c>model_type</c> names: <c>bert</c> (or absent) and <c>bert_sharp</c> are BERT, then <c>roberta</c>,
    /// <c>xlm-roberta</c>, <c>distilbert</c> and <c>modernbert</c>.
    /// </summary>
    /// <exception cref="NotSupportedException">Another model type (DeBERTa, ...); the message names it and the supported ones.</exception>
    public static EncoderFamily FromModelType(string? modelType) => TryFromModelType(modelType)
        ?? throw new NotSupportedException($"model_type '{modelType}' is not supported; this library builds {string.Join(", ", SupportedModelTypes)} models.");

    /// <summary>The <c>model_type</c> values this library reads.</summary>
    public static IReadOnlyList<string> SupportedModelTypes { get; } = ["bert", "bert_sharp", "roberta", "xlm-roberta", "distilbert", "modernbert"];

    /// <summary>The family a <c>model_type</c> names, or <c>null</c> when no supported family has it.</summary>
    public static EncoderFamily? TryFromModelType(string? modelType) => modelType switch
    {
        null or "bert" or "bert_sharp" => Bert,
        "roberta" => Roberta,
        "xlm-roberta" => XlmRoberta,
        "distilbert" => DistilBert,
        "modernbert" => ModernBert,
        _ => null,
    };

    /// <inheritdoc />
    public override string ToString() => ModelType;
}
