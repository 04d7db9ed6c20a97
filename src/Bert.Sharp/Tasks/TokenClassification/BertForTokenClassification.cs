using Bert.Sharp.Inference;
using Bert.Sharp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>
/// A BERT encoder with a linear layer over every token, as Hugging Face's <c>BertForTokenClassification</c>: named-entity
/// recognition and other tagging. The same parameter names (<c>bert.*</c> without a pooler, <c>classifier.weight</c>,
/// <c>classifier.bias</c>), the same loss (cross-entropy over tokens, -100 ignored) and the same <c>config.json</c> keys.
/// </summary>
/// <remarks>
/// Load one with <see cref="FromPretrained"/> (a base checkpoint gets a new head for your tags), train it with
/// <see cref="FineTuner"/> on <see cref="TaggedSentence"/>s, save it with <see cref="BertTaskModel.SavePretrained(string, BertTokenizer?)"/>, and serve it with
/// <see cref="TokenClassifier"/>.
/// </remarks>
public sealed partial class BertForTokenClassification : BertTaskModel, IBuiltInTrainable, ISeededHead
{
#pragma warning disable IDE1006, SA1300 // Field names are Hugging Face checkpoint keys.
    private readonly ClassificationHead classifier;

    // ModernBERT's prediction head before the classifier (head.dense, head.norm); null for the other families.
    private readonly FamilySequenceHead? familyHead;
#pragma warning restore IDE1006, SA1300

    /// <summary>Puts a new, freshly initialised head for <paramref name="labels"/> (the tags, e.g. <c>O</c>, <c>B-PER</c>, <c>I-PER</c>) on <paramref name="encoder"/>.</summary>
    /// <param name="encoder">The (usually pretrained) encoder; owned by the new model from now on. A pooler, if it has one, is kept but never read.</param>
    /// <param name="labels">Tag names in class-index order.</param>
    /// <exception cref="ArgumentException">Fewer than two tags, or duplicates.</exception>
    public BertForTokenClassification(BertModel encoder, IReadOnlyList<string> labels)
        : base(nameof(BertForTokenClassification), encoder)
    {
        ArgumentNullException.ThrowIfNull(labels);

        if (labels.Count < 2 || labels.Any(l => l is null) || labels.Distinct(StringComparer.Ordinal).Count() != labels.Count)
        {
            throw new ArgumentException($"A token classifier needs at least two distinct, non-null tags; got [{string.Join(", ", labels)}].", nameof(labels));
        }

        BertConfig config = encoder.Config;
        // DistilBertForTokenClassification drops out with config.dropout; BERT's and RoBERTa's with classifier_dropout, else hidden_dropout_prob.
        double dropout = encoder.Family == EncoderFamily.DistilBert ? config.HiddenDropoutProb : config.ClassifierDropout ?? config.HiddenDropoutProb;
        classifier = new ClassificationHead(config.HiddenSize, labels.Count, dropout, PoolingStrategy.Cls, config.InitializerRange);
        if (encoder.Family.SequenceHead == SequenceHeadLayout.PredictionHead)
        {
            // ModernBertForTokenClassification: head (dense, activation, norm) over every token, dropout, classifier.
            familyHead = new FamilySequenceHead(classifier, config);
            register_module(FamilySequenceHead.PredictionHeadName, familyHead.PredictionHead!);
            familyHead.to(encoder.Device);
        }

        register_module("classifier", classifier);
        classifier.to(encoder.Device);
        Labels = [.. labels];
    }

    /// <summary>Submodules are registered by name in the constructor (ModernBERT's head adds <c>head</c>); field-based registration would add them twice.</summary>
    protected override void RegisterComponents()
    {
    }

    /// <summary>Builds an untrained model (random encoder without pooler, random head) of <paramref name="config"/>.</summary>
    /// <param name="config">The encoder's architecture.</param>
    /// <param name="labels">Tag names; <c>null</c> reads them from <c>config.Id2Label</c>.</param>
    public BertForTokenClassification(BertConfig config, IReadOnlyList<string>? labels = null)
        : this(new BertModel(config ?? throw new ArgumentNullException(nameof(config)), addPoolingLayer: false), labels ?? BertForSequenceClassification.LabelsFromConfig(config))
    {
    }

    /// <summary>The linear layer over token states (<c>classifier.*</c>); it does not pool.</summary>
    public ClassificationHead Head => classifier;

    /// <summary>Tag names in class-index order (<c>id2label</c>).</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>Number of tags.</summary>
    public int NumLabels => Labels.Count;

    /// <summary>The configuration to save: the encoder's with the family's <c>model_type</c>, <c>architectures</c> (<c>BertForTokenClassification</c>, <c>RobertaForTokenClassification</c>, ...), <c>id2label</c> and <c>label2id</c>.</summary>
    public BertConfig Config => Bert.Config with
    {
        ModelType = Bert.Family.ModelType,
        Architectures = [Bert.Family.TokenClassificationArchitecture],
        Id2Label = Labels.Select((l, i) => (l, i)).ToDictionary(x => x.i, x => x.l),
        Label2Id = Labels.Select((l, i) => (l, i)).ToDictionary(x => x.l, x => x.i, StringComparer.Ordinal),
        ProblemType = null,
    };

    /// <inheritdoc />
    protected override nn.Module HeadModule => familyHead ?? (nn.Module)classifier;

    /// <inheritdoc />
    private protected override string HeadPrefix => familyHead is null ? HeadName : string.Empty;

    /// <summary>Re-initialises the head (ModernBERT's prediction head too) from <paramref name="seed"/>.</summary>
    void ISeededHead.ResetHead(double initializerRange, int seed)
    {
        classifier.ResetParameters(initializerRange, seed);
        familyHead?.ResetParameters(initializerRange, seed);
    }

    /// <inheritdoc />
    protected override bool UsesPooler => false;

    /// <inheritdoc />
    private protected override string PeftTaskType => "TOKEN_CLS";

    /// <inheritdoc />
    private protected override Dictionary<string, string> AdapterMetadata() => new() { [Sharp.Adapters.AdapterFolder.LabelsKey] = System.Text.Json.JsonSerializer.Serialize(Labels) };

    /// <summary>Tags a batch; with <paramref name="labels"/> (tag ids [batch, seq], -100 where no label) also computes the loss.</summary>
    /// <param name="inputIds">Token ids [batch, seq], int64.</param>
    /// <param name="attentionMask">1 for real tokens, 0 for padding; <c>null</c> when nothing is padded.</param>
    /// <param name="tokenTypeIds">Segment ids; <c>null</c> for all zeros.</param>
    /// <param name="labels">Tag ids [batch, seq] (int64), -100 on tokens without a label (special tokens, non-first word pieces, padding).</param>
    public SequenceClassifierOutput Forward(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null, Tensor? labels = null) =>
        SequenceClassifierOutput.Compute(() => Logits(inputIds, attentionMask, tokenTypeIds), labels, ComputeLoss);

    /// <summary>Cross-entropy over the tokens of <paramref name="logits"/> [batch, seq, tags] whose label in <paramref name="labels"/> is not -100.</summary>
    public Tensor ComputeLoss(Tensor logits, Tensor labels) => SequenceClassifierOutput.ScopedLoss(logits, labels, (scores, target) =>
        nn.functional.cross_entropy(scores.view(-1, NumLabels), target.to(ScalarType.Int64).view(-1), ignore_index: TokenClassification.WordPieceLabelAligner.IgnoreIndex));

    /// <summary>The head's input: the last hidden state [batch, seq, hidden] (the one forward path).</summary>
    internal Tensor Features(Tensor inputIds, Tensor? attentionMask, Tensor? tokenTypeIds)
    {
        using var scope = NewDisposeScope();
        using BertModelOutput encoded = Bert.Forward(inputIds, attentionMask, tokenTypeIds);
        return encoded.LastHiddenState.alias().MoveToOuterDisposeScope();
    }

    /// <summary>Logits [batch, seq, tags].</summary>
    internal Tensor Logits(Tensor inputIds, Tensor? attentionMask, Tensor? tokenTypeIds)
    {
        using var scope = NewDisposeScope();
        Tensor features = Features(inputIds, attentionMask, tokenTypeIds);
        return (familyHead is null ? classifier.call(features) : familyHead.call(features)).MoveToOuterDisposeScope();
    }

    TrainingTask IBuiltInTrainable.CreateTask(ITextEncoder encoder, BertTokenizer? tokenizer, FineTuningOptions options) =>
        new TokenClassificationTask(this, encoder, tokenizer, options.LabelAllTokens);
}
