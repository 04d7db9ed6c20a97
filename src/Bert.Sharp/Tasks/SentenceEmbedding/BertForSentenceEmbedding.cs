using Bert.Sharp.Hub;
using Bert.Sharp.Checkpoints;
using Bert.Sharp.IO;
using Bert.Sharp.Inference;
using Bert.Sharp.Modeling;
using Bert.Sharp.Training;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>
/// A BERT encoder that turns a text into one vector (a sentence-transformers model: Transformer → Pooling → Normalize), to be
/// fine-tuned on <see cref="TextPair"/>s with the in-batch contrastive loss sentence-transformers uses by default
/// (MultipleNegativesRankingLoss, cosine similarity × 20). It has no head: the encoder itself learns, so transfer learning
/// (everything frozen) has nothing to train here. Serve the result with <see cref="SentenceEmbedder"/>.
/// </summary>
public sealed class BertForSentenceEmbedding : BertTaskModel, IBuiltInTrainable
{
    /// <summary>The similarity scale of the contrastive loss (sentence-transformers' default).</summary>
    public const double Scale = 20.0;

    /// <summary>Wraps <paramref name="encoder"/> with a pooling and optional normalisation.</summary>
    /// <exception cref="ArgumentException">Pooler pooling on an encoder without a pooler.</exception>
    public BertForSentenceEmbedding(BertModel encoder, PoolingStrategy pooling = PoolingStrategy.Mean, bool normalize = true)
        : base(nameof(BertForSentenceEmbedding), encoder)
    {
        if (!Enum.IsDefined(pooling) || (pooling == PoolingStrategy.Pooler && encoder.Pooler is null))
        {
            throw new ArgumentException($"Pooling {pooling} needs {(Enum.IsDefined(pooling) ? "an encoder with a pooler" : "a defined strategy")}.", nameof(pooling));
        }

        Pooling = pooling;
        Normalize = normalize;
        RegisterComponents();
    }

    /// <summary>How token states become one vector.</summary>
    public PoolingStrategy Pooling { get; }

    /// <summary>Whether vectors are scaled to unit length.</summary>
    public bool Normalize { get; }


    /// <inheritdoc />
    protected override nn.Module? HeadModule => null;

    /// <inheritdoc />
    protected override bool UsesPooler => Pooling == PoolingStrategy.Pooler;

    /// <summary>
    /// <see cref="FromPretrained(string, SentenceEmbeddingOptions?)"/> that downloads asynchronously: a Hub model id is fetched into the shared
    /// cache without blocking the calling thread (cancellation and the Hub timeouts apply), then the local folder is loaded.
    /// </summary>
    /// <param name="directoryOrModelId">A local directory, or a Hugging Face model id.</param>
    /// <param name="options">Load options, as for the synchronous form; their <c>Hub</c> settings apply to the download.</param>
    /// <param name="cancellationToken">Cancels the download; a partial file is kept and resumed next time.</param>
    /// <returns>What the synchronous form returns.</returns>
    /// <exception cref="HubException">The model could not be fetched.</exception>
    public static Task<BertForSentenceEmbedding> FromPretrainedAsync(string directoryOrModelId, SentenceEmbeddingOptions? options = null, CancellationToken cancellationToken = default) =>
        PretrainedLoading.ResolveThenLoadAsync(directoryOrModelId, options?.Hub, resolved => FromPretrained(resolved, options), cancellationToken);

    /// <inheritdoc />
    private protected override string PeftTaskType => "FEATURE_EXTRACTION";

    /// <summary>Transformers' <c>BertModel</c> has no <c>bert.</c> prefix: PEFT's keys are <c>base_model.model.encoder.layer.0...</c>.</summary>
    private protected override string PeftModulePath(string name) => name.StartsWith(Bert.Family.BasePrefix + ".", StringComparison.Ordinal) ? name[(Bert.Family.BasePrefix.Length + 1)..] : name;

    /// <summary>Loads an encoder for embedding (a sentence-transformers folder, or any BERT checkpoint) with its pooling.</summary>
    /// <exception cref="InvalidDataException">A file is malformed, the config is not a BERT, or an encoder weight is missing or mis-shaped.</exception>
    public static BertForSentenceEmbedding FromPretrained(string directoryOrModelId, SentenceEmbeddingOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directoryOrModelId);
        options ??= new SentenceEmbeddingOptions();
        options.Validate();
        return TaskModelLoading.Load(directoryOrModelId, options, allowMissing: false, (checkpoint, _) =>
        {
            SentenceTransformersFolder? folder = SentenceTransformersFolder.Read(checkpoint.Directory);
            PoolingStrategy pooling = options.Pooling ?? folder?.Pooling ?? PoolingStrategy.Mean;
            var model = new BertForSentenceEmbedding(new BertModel(checkpoint.Config, checkpoint.HasPooler), pooling, options.Normalize ?? folder?.Normalize ?? false);
            return new TaskModelBuild<BertForSentenceEmbedding>(model, [], () => model.MaxSequenceLength = options.MaxSequenceLength ?? folder?.MaxSequenceLength);
        });
    }

    /// <summary>The embeddings [batch, hidden] of a tokenized batch (the one forward path, then pooling and normalisation).</summary>
    public Tensor Forward(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null)
    {
        using var scope = NewDisposeScope();
        using BertModelOutput encoded = Bert.Forward(inputIds, attentionMask, tokenTypeIds);
        Tensor pooled = Pooling == PoolingStrategy.Pooler
            ? encoded.PooledOutput!.alias()
            : ClassificationHead.Pooled(encoded.LastHiddenState, attentionMask?.to(Device), Pooling);
        return (Normalize ? nn.functional.normalize(pooled, p: 2, dim: -1) : pooled).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Writes a sentence-transformers folder: the Hugging Face model files plus <c>modules.json</c>, <c>1_Pooling/config.json</c>
    /// and <c>sentence_bert_config.json</c>, which Python's <c>SentenceTransformer(folder)</c> and <see cref="SentenceEmbedder"/>
    /// read. Additive and atomic, as every save.
    /// </summary>
    public override void SavePretrained(string directory, BertTokenizer? tokenizer = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (Pooling == PoolingStrategy.Pooler)
        {
            throw new NotSupportedException("sentence-transformers has no pooler pooling; save a model with mean, CLS or max pooling.");
        }

        base.SavePretrained(directory, tokenizer);
    }

    /// <inheritdoc />
    protected override BertConfig ConfigToSave => Bert.Config with { Architectures = [Bert.Family.BaseArchitecture], ModelType = Bert.Family.ModelType };

    /// <inheritdoc />
    internal override void AddTaskFiles(ModelFolderWriter writer, BertConfig config)
    {
        new SentenceTransformersFolder(Pooling, Normalize, MaxSequenceLength).AddTo(writer, Bert.Config.HiddenSize);
        PythonInterop.AddModules(writer, needed: false);
    }

    /// <summary>The longest input the folder asked for, or <c>null</c>.</summary>
    internal int? MaxSequenceLength { get; private set; }

    TrainingTask IBuiltInTrainable.CreateTask(ITextEncoder encoder, BertTokenizer? tokenizer, FineTuningOptions options) => new SentenceEmbeddingTask(this, encoder, tokenizer);
}
