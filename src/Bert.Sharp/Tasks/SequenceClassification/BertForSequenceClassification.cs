using System.Text.Json;
using Bert.Sharp.Inference;
using Bert.Sharp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>
/// A BERT encoder with a <see cref="ClassificationHead"/> on top, as Hugging Face's <c>BertForSequenceClassification</c>:
/// the same parameter names (<c>bert.*</c>, <c>classifier.weight</c>, <c>classifier.bias</c>), the same losses per
/// <see cref="ProblemType"/> and the same <c>config.json</c> keys (<c>id2label</c>, <c>label2id</c>, <c>problem_type</c>).
/// </summary>
/// <remarks>
/// Load one with <c>FromPretrained</c> (a base checkpoint gets a new head for your labels; a fine-tuned one keeps its
/// head), train it with <see cref="FineTuner"/>, save it with <c>SavePretrained</c>, and serve it with
/// <see cref="TextClassifier"/>. To wrap an encoder you already hold, use the constructor.
/// </remarks>
public sealed partial class BertForSequenceClassification : BertTaskModel, IBuiltInTrainable, ISeededHead
{
    /// <summary>
    /// The <c>config.json</c> key that records a pooling other than the pooler (<c>mean</c> or <c>cls</c>); ModernBERT's name
    /// for the same setting. Folders that carry it are saved as <c>model_type</c> <c>bert_sharp</c> with their own Python
    /// code, because Hugging Face's <c>BertForSequenceClassification</c> always pools with the pooler.
    /// </summary>
    public const string PoolingConfigKey = "classifier_pooling";

    /// <summary>The key older Bert.Sharp versions wrote for <see cref="PoolingConfigKey"/>; still read.</summary>
    internal const string LegacyPoolingConfigKey = "bert_sharp_pooling";

#pragma warning disable IDE1006, SA1300 // Field names are Hugging Face checkpoint keys.
    private readonly ClassificationHead classifier;
#pragma warning restore IDE1006, SA1300

    // RoBERTa's and DistilBERT's layers before the final linear one; null for BERT.
    private readonly FamilySequenceHead? familyHead;

    /// <summary>Puts a new, freshly initialised head for <paramref name="labels"/> on <paramref name="encoder"/>.</summary>
    /// <param name="encoder">The (usually pretrained) encoder; owned by the new model from now on.</param>
    /// <param name="labels">Class names in class-index order. For regression, the names of the outputs (usually one).</param>
    /// <param name="problemType">What is predicted; decides the loss.</param>
    /// <param name="pooling">How the head pools; <c>null</c> takes the encoder's pooler when it has one, else mean pooling.</param>
    /// <exception cref="ArgumentException">No labels, duplicate labels, or pooler pooling without a pooler.</exception>
    public BertForSequenceClassification(BertModel encoder, IReadOnlyList<string> labels, ProblemType problemType = ProblemType.SingleLabelClassification, PoolingStrategy? pooling = null)
        : base(nameof(BertForSequenceClassification), encoder)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ValidateLabels(labels, problemType);
        SequenceHeadLayout layout = encoder.Family.SequenceHead;
        PoolingStrategy chosen = layout == SequenceHeadLayout.PredictionHead
            ? pooling is null ? PoolingFromConfig(encoder.Config) : pooling is PoolingStrategy.Cls or PoolingStrategy.Mean ? pooling.Value : throw new ArgumentException($"A {encoder.Family.ModelType} classifier pools by cls or mean (classifier_pooling), as Hugging Face's {encoder.Family.SequenceClassificationArchitecture} does; pooling {pooling} is not available for it.", nameof(pooling))
            : layout != SequenceHeadLayout.Linear
            ? pooling is null or PoolingStrategy.Cls ? PoolingStrategy.Cls : throw new ArgumentException($"A {encoder.Family.ModelType} classifier reads the first token, as Hugging Face's {encoder.Family.SequenceClassificationArchitecture} does; pooling {pooling} is not available for it.", nameof(pooling))
            : pooling ?? (encoder.Pooler is null ? PoolingStrategy.Mean : PoolingStrategy.Pooler);
        if (chosen == PoolingStrategy.Pooler && encoder.Pooler is null)
        {
            throw new ArgumentException("Pooler pooling needs an encoder with a pooler; this one was built without. Use PoolingStrategy.Mean or Cls.", nameof(pooling));
        }

        BertConfig config = encoder.Config;
        classifier = new ClassificationHead(config.HiddenSize, labels.Count, config.ClassifierDropout ?? config.HiddenDropoutProb, chosen, config.InitializerRange);
        Labels = [.. labels];
        ProblemType = problemType;
        switch (layout)
        {
            case SequenceHeadLayout.DenseTanhOutProjection:
                familyHead = new FamilySequenceHead(layout, classifier, config.HiddenSize, config.ClassifierDropout ?? config.HiddenDropoutProb);
                familyHead.ResetParameters(config.InitializerRange, seed: null);
                register_module("classifier", familyHead);
                break;
            case SequenceHeadLayout.PredictionHead:
                familyHead = new FamilySequenceHead(classifier, config);
                register_module(FamilySequenceHead.PredictionHeadName, familyHead.PredictionHead!);
                register_module("classifier", classifier);
                break;
            case SequenceHeadLayout.PreClassifierRelu:
                familyHead = new FamilySequenceHead(layout, classifier, config.HiddenSize, config.ClassifierDropout ?? config.HiddenDropoutProb);
                familyHead.ResetParameters(config.InitializerRange, seed: null);
                register_module(FamilySequenceHead.PreClassifierName, familyHead.Projection);
                register_module("classifier", classifier);
                break;
            default:
                register_module("classifier", classifier);
                break;
        }

        (familyHead ?? (nn.Module)classifier).to(encoder.Device);
    }

    /// <summary>Builds an untrained model (random encoder and head) of <paramref name="config"/>; for tests and training from scratch.</summary>
    /// <param name="config">The encoder's architecture.</param>
    /// <param name="labels">Class names in class-index order; <c>null</c> reads them from <c>config.Id2Label</c> (or LABEL_0, LABEL_1).</param>
    /// <param name="problemType">What is predicted; <c>null</c> reads <c>config.ProblemType</c>.</param>
    /// <param name="pooling">How the head pools; <c>null</c> reads the config, defaulting to the pooler.</param>
    public BertForSequenceClassification(BertConfig config, IReadOnlyList<string>? labels = null, ProblemType? problemType = null, PoolingStrategy? pooling = null)
        : this(
            new BertModel(config ?? throw new ArgumentNullException(nameof(config)), addPoolingLayer: (pooling ?? PoolingFromConfig(config)) == PoolingStrategy.Pooler),
            labels ?? LabelsFromConfig(config),
            problemType ?? ProblemTypes.FromConfigString(config.ProblemType, (labels ?? LabelsFromConfig(config)).Count),
            pooling ?? PoolingFromConfig(config))
    {
    }

    /// <summary>Submodules are registered by name in the constructor (names depend on the family); field-based registration would add them twice.</summary>
    protected override void RegisterComponents()
    {
    }

    /// <summary>
    /// The head's final linear layer: BERT's whole head (<c>classifier.*</c>), RoBERTa's <c>classifier.out_proj</c>, DistilBERT's
    /// <c>classifier</c> (after <c>pre_classifier</c>).
    /// </summary>
    public ClassificationHead Head => classifier;

    /// <summary>The state-dict key of the head's final weight (<c>classifier.weight</c>, RoBERTa's <c>classifier.out_proj.weight</c>).</summary>
    internal string HeadWeightKey => familyHead?.OutputWeightKey ?? HeadWeight;

    /// <summary>Re-initialises every layer of the head from <paramref name="seed"/>.</summary>
    void ISeededHead.ResetHead(double initializerRange, int seed)
    {
        classifier.ResetParameters(initializerRange, seed);
        familyHead?.ResetParameters(initializerRange, seed);
    }

    /// <summary>Class names in class-index order (<c>id2label</c>).</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>What the model predicts; decides the loss.</summary>
    public ProblemType ProblemType { get; }

    /// <summary>Number of outputs.</summary>
    public int NumLabels => Labels.Count;

    /// <summary>
    /// The configuration to save: the encoder's config with <c>architectures</c>, <c>id2label</c>, <c>label2id</c> and
    /// <c>problem_type</c> of this model. With the pooler it is Hugging Face's <c>BertForSequenceClassification</c>; with mean
    /// or [CLS] pooling it is <c>BertSharpForSequenceClassification</c> (<c>model_type</c> <c>bert_sharp</c>, <see cref="PoolingConfigKey"/>,
    /// and an <c>auto_map</c> to the Python code saved beside it), so Python computes the same numbers or refuses.
    /// </summary>
    public BertConfig Config
    {
        get
        {
            var extension = Bert.Config.ExtensionData is null ? new Dictionary<string, JsonElement>() : new Dictionary<string, JsonElement>(Bert.Config.ExtensionData);
            extension.Remove(PoolingConfigKey);
            extension.Remove(LegacyPoolingConfigKey);
            extension.Remove(PythonInterop.AutoMapKey);
            bool custom = familyHead is null && classifier.Pooling != PoolingStrategy.Pooler;
            if (familyHead?.Layout == SequenceHeadLayout.PredictionHead)
            {
                // ModernBERT's own key: Hugging Face's ModernBertForSequenceClassification pools by it.
                extension[PoolingConfigKey] = JsonSerializer.SerializeToElement(classifier.Pooling.ToString().ToLowerInvariant());
            }

            if (custom)
            {
                extension[PoolingConfigKey] = JsonSerializer.SerializeToElement(classifier.Pooling.ToString().ToLowerInvariant());
                extension[PythonInterop.AutoMapKey] = PythonInterop.AutoMap("AutoModelForSequenceClassification", PythonInterop.SequenceClassificationClass);
            }

            return Bert.Config with
            {
                ModelType = custom ? PythonInterop.ModelType : Bert.Family.ModelType,
                Architectures = [custom ? PythonInterop.SequenceClassificationClass : Bert.Family.SequenceClassificationArchitecture],
                Id2Label = Labels.Select((l, i) => (l, i)).ToDictionary(x => x.i, x => x.l),
                Label2Id = Labels.Select((l, i) => (l, i)).ToDictionary(x => x.l, x => x.i, StringComparer.Ordinal),
                ProblemType = ProblemType.ToConfigString(),
                ExtensionData = extension.Count == 0 ? null : extension,
            };
        }
    }

    /// <inheritdoc />
    protected override nn.Module HeadModule => familyHead ?? (nn.Module)classifier;

    /// <inheritdoc />
    private protected override string HeadPrefix => familyHead?.Layout is SequenceHeadLayout.PreClassifierRelu or SequenceHeadLayout.PredictionHead ? string.Empty : "classifier";

    /// <inheritdoc />
    protected override bool UsesPooler => classifier.Pooling == PoolingStrategy.Pooler;

    /// <inheritdoc />
    private protected override string PeftTaskType => "SEQ_CLS";

    /// <inheritdoc />
    private protected override Dictionary<string, string> AdapterMetadata() => new()
    {
        [Sharp.Adapters.AdapterFolder.LabelsKey] = JsonSerializer.Serialize(Labels),
        [Sharp.Adapters.AdapterFolder.ProblemTypeKey] = ProblemType.ToConfigString(),
        [Sharp.Adapters.AdapterFolder.PoolingKey] = classifier.Pooling.ToString().ToLowerInvariant(),
    };

    /// <summary>The class index of <paramref name="label"/>.</summary>
    /// <exception cref="KeyNotFoundException">The label is not one of <see cref="Labels"/>; the message lists them.</exception>
    public int LabelId(string label)
    {
        ArgumentNullException.ThrowIfNull(label);
        for (int i = 0; i < Labels.Count; i++)
        {
            if (string.Equals(Labels[i], label, StringComparison.Ordinal))
            {
                return i;
            }
        }

        throw new KeyNotFoundException($"Label '{label}' is not one of the model's labels ({string.Join(", ", Labels.Select(l => $"'{l}'"))}).");
    }

    /// <summary>
    /// Classifies a batch; with <paramref name="labels"/> also computes the loss. Run it under <c>torch.no_grad()</c>
    /// with <c>eval()</c> for inference.
    /// </summary>
    /// <param name="inputIds">Token ids [batch, seq], int64.</param>
    /// <param name="attentionMask">1 for real tokens, 0 for padding; <c>null</c> when nothing is padded.</param>
    /// <param name="tokenTypeIds">Segment ids; <c>null</c> for all zeros.</param>
    /// <param name="labels">Class ids [batch] (int64) for single-label, multi-hot [batch, labels] (float) for multi-label, targets [batch] or [batch, labels] (float) for regression.</param>
    public SequenceClassifierOutput Forward(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null, Tensor? labels = null) =>
        SequenceClassifierOutput.Compute(() => Logits(inputIds, attentionMask, tokenTypeIds), labels, ComputeLoss);

    /// <summary>The loss of <paramref name="logits"/> against <paramref name="labels"/> for this model's <see cref="ProblemType"/>: cross-entropy, BCE with logits, or MSE.</summary>
    public Tensor ComputeLoss(Tensor logits, Tensor labels) => SequenceClassifierOutput.ScopedLoss(logits, labels, (scores, target) => ProblemType switch
    {
        ProblemType.SingleLabelClassification => nn.functional.cross_entropy(scores.view(-1, NumLabels), target.to(ScalarType.Int64).view(-1)),
        ProblemType.MultiLabelClassification => nn.functional.binary_cross_entropy_with_logits(scores, target.to(scores.dtype)),
        _ => NumLabels == 1
            ? nn.functional.mse_loss(scores.squeeze(-1), target.to(scores.dtype).view(-1))
            : nn.functional.mse_loss(scores, target.to(scores.dtype)),
    });

    /// <summary>The head's input: the pooled vector of each text [batch, hidden] (the one forward path, then pooling).</summary>
    internal Tensor Features(Tensor inputIds, Tensor? attentionMask, Tensor? tokenTypeIds)
    {
        using var scope = NewDisposeScope();
        using BertModelOutput encoded = Bert.Forward(inputIds, attentionMask, tokenTypeIds);
        return classifier.Pool(encoded.LastHiddenState, encoded.PooledOutput, attentionMask?.to(Device)).MoveToOuterDisposeScope();
    }

    /// <summary>Logits [batch, labels]: features, then the head.</summary>
    internal Tensor Logits(Tensor inputIds, Tensor? attentionMask, Tensor? tokenTypeIds)
    {
        using var scope = NewDisposeScope();
        Tensor features = Features(inputIds, attentionMask, tokenTypeIds);
        return (familyHead is null ? classifier.call(features) : familyHead.call(features)).MoveToOuterDisposeScope();
    }

    TrainingTask IBuiltInTrainable.CreateTask(ITextEncoder encoder, BertTokenizer? tokenizer, FineTuningOptions options) => new SequenceClassificationTask(this, encoder, tokenizer,
        ProblemType == ProblemType.MultiLabelClassification ? MultiLabelThresholds.Resolve(Labels, options.MultiLabelThreshold, options.LabelThresholds, nameof(FineTuningOptions)) : []);

    internal static IReadOnlyList<string> LabelsFromConfig(BertConfig config)
    {
        if (config.Id2Label is { Count: > 0 } map)
        {
            return [.. Enumerable.Range(0, map.Count).Select(i => map[i])];
        }

        return config.ProblemType == "regression" ? ["LABEL_0"] : ["LABEL_0", "LABEL_1"];
    }

    /// <summary>The pooling a config names (<see cref="PoolingConfigKey"/>, or the legacy key), or <c>null</c> when it names none.</summary>
    internal static PoolingStrategy? PoolingNamedIn(BertConfig config)
    {
        foreach (string key in new[] { PoolingConfigKey, LegacyPoolingConfigKey })
        {
            if (config.ExtensionData is not null && config.ExtensionData.TryGetValue(key, out JsonElement value) && value.ValueKind == JsonValueKind.String)
            {
                return Enum.TryParse(value.GetString(), ignoreCase: true, out PoolingStrategy pooling) && Enum.IsDefined(pooling)
                    ? pooling
                    : throw new InvalidDataException($"config.json key '{key}' is '{value.GetString()}'; expected pooler, mean or cls.");
            }
        }

        return null;
    }

    internal static PoolingStrategy PoolingFromConfig(BertConfig config) => config.Family.SequenceHead switch
    {
        SequenceHeadLayout.PredictionHead => PoolingNamedIn(config) ?? PoolingStrategy.Cls,
        SequenceHeadLayout.Linear => PoolingNamedIn(config) ?? PoolingStrategy.Pooler,
        _ => PoolingStrategy.Cls,
    };

    private static void ValidateLabels(IReadOnlyList<string> labels, ProblemType problemType)
    {
        if (labels.Count == 0)
        {
            throw new ArgumentException(problemType == ProblemType.Regression
                ? "A regression head needs at least one output name (for example [\"score\"])."
                : "A classification head needs at least one label.", nameof(labels));
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string label in labels)
        {
            if (label is null)
            {
                throw new ArgumentException("Labels must not be null.", nameof(labels));
            }

            if (!seen.Add(label))
            {
                throw new ArgumentException($"Label '{label}' appears twice; labels must be distinct.", nameof(labels));
            }
        }

        if (problemType == ProblemType.SingleLabelClassification && labels.Count < 2)
        {
            throw new ArgumentException($"Single-label classification needs at least two labels, got {labels.Count} ('{labels[0]}').", nameof(labels));
        }
    }
}
