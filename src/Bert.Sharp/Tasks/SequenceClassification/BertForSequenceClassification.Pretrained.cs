using Bert.Sharp.Adapters;
using Bert.Sharp.Hub;
using Bert.Sharp.Checkpoints;
using Bert.Sharp.IO;
using Bert.Sharp.Modeling;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp;

// Loading from and saving to Hugging Face model directories.
public sealed partial class BertForSequenceClassification
{
    private const string HeadWeight = "classifier.weight";
    private const string HeadBias = "classifier.bias";


    /// <summary>Keys of this model that the checkpoint did not hold (a new head); empty for a model built in code or loaded whole.</summary>
    public IReadOnlyList<string> NewlyInitializedKeys => LoadReport?.MissingKeys ?? [];

    /// <summary>
    /// <see cref="FromPretrained(string, IReadOnlyList{string}?, ClassifierLoadOptions?)"/> that downloads asynchronously: a Hub model id is fetched into the shared
    /// cache without blocking the calling thread (cancellation and the Hub timeouts apply), then the local folder is loaded.
    /// </summary>
    /// <param name="directoryOrModelId">A local directory, or a Hugging Face model id.</param>
    /// <param name="labels">The labels, as for the synchronous form; <c>null</c> reads them from the config.</param>
    /// <param name="options">Load options, as for the synchronous form; their <c>Hub</c> settings apply to the download.</param>
    /// <param name="cancellationToken">Cancels the download; a partial file is kept and resumed next time.</param>
    /// <returns>What the synchronous form returns.</returns>
    /// <exception cref="HubException">The model could not be fetched.</exception>
    public static Task<BertForSequenceClassification> FromPretrainedAsync(string directoryOrModelId, IReadOnlyList<string>? labels = null, ClassifierLoadOptions? options = null, CancellationToken cancellationToken = default) =>
        PretrainedLoading.ResolveThenLoadAsync(directoryOrModelId, options?.Hub, resolved => FromPretrained(resolved, labels, options), cancellationToken);

    /// <summary>
    /// Loads a classifier from a Hugging Face directory (or a hub model id). A base checkpoint gets a new head for
    /// <paramref name="labels"/> (reported in <see cref="LoadReport"/> and logged); a fine-tuned checkpoint keeps its trained
    /// head and labels. Every encoder weight must be in the checkpoint, with the right shape. The model is returned in
    /// evaluation mode.
    /// </summary>
    /// <param name="directoryOrModelId">A local model directory or a hub model id.</param>
    /// <param name="labels">
    /// Class names in class-index order. Required for a base checkpoint; for a fine-tuned one <c>null</c> keeps its
    /// <c>id2label</c>, and a list of the same length renames the classes.
    /// </param>
    /// <param name="options">Problem type, pooling, device, logging, the seed of a new head.</param>
    /// <exception cref="ArgumentException">A base checkpoint and no labels.</exception>
    /// <exception cref="InvalidOperationException">The checkpoint's head has a different number of labels than <paramref name="labels"/> and <see cref="ClassifierLoadOptions.IgnoreMismatchedSizes"/> is off.</exception>
    /// <exception cref="FileNotFoundException">No <c>config.json</c> or no weights.</exception>
    /// <exception cref="InvalidDataException">A file is malformed, the config is not a BERT, or an encoder weight is missing or mis-shaped.</exception>
    public static BertForSequenceClassification FromPretrained(string directoryOrModelId, IReadOnlyList<string>? labels = null, ClassifierLoadOptions? options = null) =>
        TaskModelLoading.LoadLabeled(directoryOrModelId, labels, options, FromAdapterFolder, Build);

    // The task's part of loading: another task's head dropped, the labels chosen against the head, the model built.
    private static TaskModelBuild<BertForSequenceClassification> Build(PretrainedCheckpoint checkpoint, ILogger logger, IReadOnlyList<string>? labels, ClassifierLoadOptions options)
    {
        string directory = checkpoint.Directory;
        BertConfig config = checkpoint.Config;
        if (config.Architectures is { Count: > 0 } architectures && architectures.Any(a => a.Contains("TokenClassification", StringComparison.Ordinal)))
        {
            // Another task's head has the same names and would be taken silently; it is dropped (and reported) instead.
            ModelLoadLog.ForeignHeadDropped(logger, directory, architectures[0]);
            checkpoint.Drop(HeadWeight);
            checkpoint.Drop(HeadBias);
            config = config with { Id2Label = null, Label2Id = null };
        }

        string[] headKeys = HeadKeys(config.Family.SequenceHead);
        string headWeight = headKeys[^2];
        bool hasHead = checkpoint.State.ContainsKey(headWeight);
        int headRows = checkpoint.HeadRows(headWeight);
        IReadOnlyList<string> chosen = ChooseLabels(directory, config, labels, hasHead, headRows, options.IgnoreMismatchedSizes);
        if (hasHead && headRows != chosen.Count)
        {
            // Only reached with IgnoreMismatchedSizes: the old head is dropped and a new one initialised.
            ModelLoadLog.HeadReplaced(logger, directory, headRows, chosen.Count);
            foreach (string key in headKeys)
            {
                checkpoint.Drop(key);
            }
        }

        ProblemType problemType = options.ProblemType ?? ProblemTypes.FromConfigString(config.ProblemType, chosen.Count);
        PoolingStrategy pooling = options.Pooling ?? DefaultPooling(directory, config, checkpoint.HasPooler);
        var encoder = new BertModel(config, addPoolingLayer: checkpoint.HasPooler || pooling == PoolingStrategy.Pooler);
        var model = new BertForSequenceClassification(encoder, chosen, problemType, pooling);
        return new(model, headKeys);
    }

    /// <summary>Loads a classifier with the encoder's load options (device, dtype, logging, attention kernel); see the other overload.</summary>
    /// <inheritdoc cref="FromPretrained(string, IReadOnlyList{string}?, ClassifierLoadOptions?)"/>
    public static BertForSequenceClassification FromPretrained(string directoryOrModelId, IReadOnlyList<string>? labels, BertLoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        BertForSequenceClassification model = FromPretrained(directoryOrModelId, labels, new ClassifierLoadOptions
        {
            Device = options.Device,
            LoggerFactory = options.LoggerFactory,
            AttentionImplementation = options.AttentionImplementation,
            AllowMissingWeights = options.AllowMissingWeights,
            Hub = options.Hub,
        });
        if (options.DType is ScalarType dtype)
        {
            model.to(dtype);
        }

        return model;
    }

    /// <summary>
    /// The config <see cref="BertTaskModel.SavePretrained(string, BertTokenizer?)"/> writes: <see cref="Config"/> (with <c>architectures</c>, <c>id2label</c>,
    /// <c>label2id</c>, <c>problem_type</c>); the weights are <c>bert.*</c> and <c>classifier.*</c>, and with mean or [CLS]
    /// pooling the save also holds the Python code Hugging Face needs to compute the same thing.
    /// </summary>
    protected override BertConfig ConfigToSave => Config;

    /// <inheritdoc />
    internal override void AddTaskFiles(ModelFolderWriter writer, BertConfig config) =>
        PythonInterop.AddModules(writer, needed: config.ModelType == PythonInterop.ModelType);

    // The head's keys in a family's checkpoint, the final weight and bias last.
    private static string[] HeadKeys(SequenceHeadLayout layout) => layout switch
    {
        SequenceHeadLayout.DenseTanhOutProjection => ["classifier.dense.weight", "classifier.dense.bias", "classifier.out_proj.weight", "classifier.out_proj.bias"],
        SequenceHeadLayout.PreClassifierRelu => ["pre_classifier.weight", "pre_classifier.bias", HeadWeight, HeadBias],
        SequenceHeadLayout.PredictionHead => ["head.dense.weight", "head.dense.bias", "head.norm.weight", "head.norm.bias", HeadWeight, HeadBias],
        _ => [HeadWeight, HeadBias],
    };

    // A PEFT adapter folder: the base it names, with the labels, problem type and pooling the adapter was trained with, then the adapter.
    private static BertForSequenceClassification FromAdapterFolder(string directory, IReadOnlyList<string>? labels, ClassifierLoadOptions options)
    {
        // Everything the folder says is checked (chain of bases, labels against the head's shape) before the base is loaded.
        IReadOnlyDictionary<string, string> metadata = AdapterFolder.Metadata(directory);
        PoolingStrategy? pooling = options.Pooling ?? (metadata.TryGetValue(AdapterFolder.PoolingKey, out string? p) && Enum.TryParse(p, ignoreCase: true, out PoolingStrategy parsed) && Enum.IsDefined(parsed) ? parsed : null);
        IReadOnlyList<string>? chosen = labels ?? AdapterFolder.Labels(directory, HeadWeight);
        ProblemType? problemType = options.ProblemType ?? (chosen is not null ? AdapterFolder.ProblemTypeOf(directory, metadata, chosen.Count) : null);
        return FromAdapterFolder(directory, options.Hub, b => FromPretrained(b, chosen, options with { Pooling = pooling, ProblemType = problemType, IgnoreMismatchedSizes = true }));
    }

    // A config that names its pooling wins; a sentence-transformers folder says how its encoder was trained to be read; a
    // checkpoint with a pooler gets the pooler (Hugging Face's behaviour); without one, mean pooling.
    private static PoolingStrategy DefaultPooling(string directory, BertConfig config, bool hasPooler) =>
        (config.Family.SequenceHead == SequenceHeadLayout.PredictionHead ? PoolingFromConfig(config)
            : config.Family.SequenceHead != SequenceHeadLayout.Linear ? PoolingStrategy.Cls : (PoolingStrategy?)null)
        ?? PoolingNamedIn(config)
        ?? SentenceTransformersFolder.Read(directory)?.Pooling
        ?? (hasPooler ? PoolingStrategy.Pooler : PoolingStrategy.Mean);

    private static IReadOnlyList<string> ChooseLabels(string directory, BertConfig config, IReadOnlyList<string>? labels, bool hasHead, int headRows, bool ignoreMismatchedSizes)
    {
        if (labels is null)
        {
            if (config.Id2Label is { Count: > 0 })
            {
                IReadOnlyList<string> fromConfig = LabelsFromConfig(config);
                if (hasHead && headRows != fromConfig.Count)
                {
                    throw new InvalidDataException($"'{directory}': config.json names {fromConfig.Count} labels but the classifier weight has {headRows} rows.");
                }

                return fromConfig;
            }

            if (hasHead)
            {
                return [.. Enumerable.Range(0, headRows).Select(i => $"LABEL_{i}")];
            }

            throw new ArgumentException($"'{directory}' is a base checkpoint (no classification head, no id2label): pass the labels of your task, for example [\"negative\", \"positive\"].", nameof(labels));
        }

        if (hasHead && headRows != labels.Count && !ignoreMismatchedSizes)
        {
            string had = config.Id2Label is { Count: > 0 } ? string.Join(", ", LabelsFromConfig(config)) : $"{headRows} unnamed";
            throw new InvalidOperationException(
                $"'{directory}' holds a classification head for {headRows} labels ({had}) but {labels.Count} labels were given ({string.Join(", ", labels)}). " +
                "Pass labels that match, or set ClassifierLoadOptions.IgnoreMismatchedSizes = true to replace the head with a new, untrained one.");
        }

        return labels;
    }
}
