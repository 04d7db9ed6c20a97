using Bert.Sharp.Adapters;
using Bert.Sharp.Hub;
using Bert.Sharp.Checkpoints;
using Bert.Sharp.IO;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace Bert.Sharp;

// Loading from and saving to Hugging Face model directories.
public sealed partial class BertForTokenClassification
{
    private const string HeadWeight = "classifier.weight";
    private const string HeadBias = "classifier.bias";


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
    public static Task<BertForTokenClassification> FromPretrainedAsync(string directoryOrModelId, IReadOnlyList<string>? labels = null, ClassifierLoadOptions? options = null, CancellationToken cancellationToken = default) =>
        PretrainedLoading.ResolveThenLoadAsync(directoryOrModelId, options?.Hub, resolved => FromPretrained(resolved, labels, options), cancellationToken);

    /// <summary>
    /// Loads a token classifier from a Hugging Face directory (or hub id). A base checkpoint gets a new head for
    /// <paramref name="labels"/> (reported in <see cref="LoadReport"/> and logged); a fine-tuned token classifier keeps its
    /// head and tags. Every encoder weight must be in the checkpoint, with the right shape. Returned in evaluation mode.
    /// </summary>
    /// <param name="directoryOrModelId">A local model directory or a hub model id.</param>
    /// <param name="labels">The tags in class-index order; required for a base checkpoint, <c>null</c> keeps a fine-tuned one's.</param>
    /// <param name="options">Device, logging, the new head's seed (<see cref="ClassifierLoadOptions.ProblemType"/> and <see cref="ClassifierLoadOptions.Pooling"/> do not apply).</param>
    /// <exception cref="ArgumentException">A base checkpoint and no labels.</exception>
    /// <exception cref="InvalidOperationException">The checkpoint's head has another number of tags and <see cref="ClassifierLoadOptions.IgnoreMismatchedSizes"/> is off.</exception>
    /// <exception cref="InvalidDataException">A file is malformed, the config is not a BERT, or an encoder weight is missing or mis-shaped.</exception>
    public static BertForTokenClassification FromPretrained(string directoryOrModelId, IReadOnlyList<string>? labels = null, ClassifierLoadOptions? options = null) =>
        TaskModelLoading.LoadLabeled(directoryOrModelId, labels, options, FromAdapterFolder, Build);

    // The task's part of loading: a sequence classifier's head dropped, the tags chosen against the head, the model built.
    private static TaskModelBuild<BertForTokenClassification> Build(PretrainedCheckpoint checkpoint, ILogger logger, IReadOnlyList<string>? labels, ClassifierLoadOptions options)
    {
        string directory = checkpoint.Directory;
        BertConfig config = checkpoint.Config;
        bool ownTask = config.Architectures is { Count: > 0 } a && a.Contains(config.Family.TokenClassificationArchitecture, StringComparer.Ordinal);
        if (!ownTask && checkpoint.State.ContainsKey(HeadWeight))
        {
            // A sequence classifier's head has the same names and would be taken silently; it is dropped (and reported) instead.
            ModelLoadLog.ForeignHeadDropped(logger, directory, config.Architectures is { Count: > 0 } named ? named[0] : "task");
            foreach (string key in HeadKeysOf(config))
            {
                checkpoint.Drop(key);
            }
        }

        bool hasHead = checkpoint.State.ContainsKey(HeadWeight);
        int headRows = checkpoint.HeadRows(HeadWeight);
        IReadOnlyList<string> chosen = labels
            ?? (ownTask && config.Id2Label is { Count: > 0 } ? BertForSequenceClassification.LabelsFromConfig(config) : null)
            ?? throw new ArgumentException($"'{directory}' is not a token classifier (no tagging head): pass the tags of your task, for example [\"O\", \"B-PER\", \"I-PER\"].", nameof(labels));
        if (hasHead && headRows != chosen.Count)
        {
            if (!options.IgnoreMismatchedSizes)
            {
                throw new InvalidOperationException(
                    $"'{directory}' holds a tagging head for {headRows} tags but {chosen.Count} were given ({string.Join(", ", chosen)}). " +
                    "Pass tags that match, or set ClassifierLoadOptions.IgnoreMismatchedSizes = true to replace the head with a new, untrained one.");
            }

            ModelLoadLog.HeadReplaced(logger, directory, headRows, chosen.Count);
            checkpoint.Drop(HeadWeight);
            checkpoint.Drop(HeadBias);
        }

        var model = new BertForTokenClassification(new BertModel(config, addPoolingLayer: false), chosen);
        return new(model, HeadKeysOf(config));
    }

    // The head's keys: the classifier, and ModernBERT's prediction head before it.
    private static string[] HeadKeysOf(BertConfig config) => config.Family.SequenceHead == SequenceHeadLayout.PredictionHead
        ? ["head.dense.weight", "head.dense.bias", "head.norm.weight", "head.norm.bias", HeadWeight, HeadBias]
        : [HeadWeight, HeadBias];

    /// <summary>
    /// The config <see cref="BertTaskModel.SavePretrained(string, BertTokenizer?)"/> writes: <see cref="Config"/>, a Hugging Face <c>BertForTokenClassification</c>
    /// directory that Python's <c>AutoModelForTokenClassification</c> and <see cref="TokenClassifier"/> load.
    /// </summary>
    protected override BertConfig ConfigToSave => Config;

    /// <inheritdoc />
    internal override void AddTaskFiles(ModelFolderWriter writer, BertConfig config) => PythonInterop.AddModules(writer, needed: false);

    // A PEFT adapter folder: the base it names with the tags the adapter was trained for, then the adapter.
    private static BertForTokenClassification FromAdapterFolder(string directory, IReadOnlyList<string>? labels, ClassifierLoadOptions options)
    {
        // Everything the folder says is checked (chain of bases, tags against the head's shape) before the base is loaded.
        IReadOnlyList<string>? chosen = labels ?? AdapterFolder.Labels(directory, HeadWeight);
        return FromAdapterFolder(directory, options.Hub, b => FromPretrained(b, chosen, options with { IgnoreMismatchedSizes = true }));
    }
}
