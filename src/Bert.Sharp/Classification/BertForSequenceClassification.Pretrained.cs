using Bert.Sharp.Checkpoints;
using Bert.Sharp.Training;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp;

// Loading from and saving to Hugging Face model directories.
public sealed partial class BertForSequenceClassification
{
    private const string HeadWeight = "classifier.weight";
    private const string HeadBias = "classifier.bias";

    /// <summary>
    /// Keys of this model that the checkpoint it was loaded from did not hold (a new head on a base checkpoint:
    /// <c>classifier.weight</c>, <c>classifier.bias</c>); empty for a model built in code or loaded whole.
    /// </summary>
    public IReadOnlyList<string> NewlyInitializedKeys { get; private set; } = [];

    /// <summary>
    /// Loads a classifier from a Hugging Face directory (or a hub model id). A base checkpoint gets a new head for
    /// <paramref name="labels"/> (reported in <see cref="NewlyInitializedKeys"/> and logged); a fine-tuned checkpoint
    /// keeps its trained head and labels. The model is returned in evaluation mode.
    /// </summary>
    /// <param name="directoryOrModelId">A local model directory or a hub model id.</param>
    /// <param name="labels">
    /// Class names in class-index order. Required for a base checkpoint; for a fine-tuned one <c>null</c> keeps its
    /// <c>id2label</c>, and a list of the same length renames the classes.
    /// </param>
    /// <param name="options">Problem type, pooling, device, logging.</param>
    /// <exception cref="ArgumentException">A base checkpoint and no labels.</exception>
    /// <exception cref="InvalidOperationException">The checkpoint's head has a different number of labels than <paramref name="labels"/> and <see cref="ClassifierLoadOptions.IgnoreMismatchedSizes"/> is off.</exception>
    /// <exception cref="FileNotFoundException">No <c>config.json</c> or no weights.</exception>
    /// <exception cref="InvalidDataException">A file is malformed, or an encoder weight has the wrong shape.</exception>
    public static BertForSequenceClassification FromPretrained(string directoryOrModelId, IReadOnlyList<string>? labels = null, ClassifierLoadOptions? options = null)
    {
        return Load(directoryOrModelId, labels, options);
    }

    /// <summary>Loads a classifier with the encoder's load options (device, logging, attention kernel); see the other overload.</summary>
    /// <inheritdoc cref="FromPretrained(string, IReadOnlyList{string}?, ClassifierLoadOptions?)"/>
    public static BertForSequenceClassification FromPretrained(string directoryOrModelId, IReadOnlyList<string>? labels, BertLoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        BertForSequenceClassification model = Load(directoryOrModelId, labels, new ClassifierLoadOptions { Device = options.Device, LoggerFactory = options.LoggerFactory, AttnImplementation = options.AttnImplementation });
        if (options.DType is ScalarType dtype)
        {
            model.to(dtype);
        }

        return model;
    }

    private static BertForSequenceClassification Load(string directoryOrModelId, IReadOnlyList<string>? labels, ClassifierLoadOptions? options)
    {
        ArgumentException.ThrowIfNullOrEmpty(directoryOrModelId);
        options ??= new ClassifierLoadOptions();
        ILogger logger = options.LoggerFactory?.CreateLogger<BertForSequenceClassification>() ?? NullLogger<BertForSequenceClassification>.Instance;
        (string directory, BertConfig config, Dictionary<string, Tensor> state) = PretrainedCheckpoint.Open(directoryOrModelId, options.AttnImplementation);
        try
        {
            bool hasHead = state.ContainsKey(HeadWeight);
            bool hasPooler = PretrainedCheckpoint.HasPooler(state);
            int headRows = hasHead ? (int)state[HeadWeight].shape[0] : 0;
            IReadOnlyList<string> chosen = ChooseLabels(directory, config, labels, hasHead, headRows, options.IgnoreMismatchedSizes);
            if (hasHead && headRows != chosen.Count)
            {
                // Only reached with IgnoreMismatchedSizes: the old head is dropped and a new one initialised.
                TrainingLog.HeadReplaced(logger, directory, headRows, chosen.Count);
                state.Remove(HeadWeight, out Tensor? w);
                state.Remove(HeadBias, out Tensor? b);
                w?.Dispose();
                b?.Dispose();
            }

            ProblemType problemType = options.ProblemType ?? ProblemTypes.FromConfigString(config.ProblemType, chosen.Count);
            PoolingStrategy pooling = options.Pooling
                ?? (config.ExtensionData?.ContainsKey(PoolingConfigKey) == true ? PoolingFromConfig(config) : hasPooler ? PoolingStrategy.Pooler : PoolingStrategy.Mean);
            var encoder = new BertModel(config, addPoolingLayer: hasPooler || pooling == PoolingStrategy.Pooler);
            var model = new BertForSequenceClassification(encoder, chosen, problemType, pooling);
            try
            {
                LoadReport report = StateDictLoader.Load(model, state, BertModel.BasePrefix, strict: false, logger, directory);
                if (report.MismatchedShapes.Count > 0)
                {
                    throw new InvalidDataException($"'{directory}' does not fit its own config: {string.Join("; ", report.MismatchedShapes)}.");
                }

                model.NewlyInitializedKeys = report.MissingKeys;
                if (options.Device is Device device)
                {
                    model.to(device);
                }

                model.eval();
                return model;
            }
            catch
            {
                model.Dispose();
                throw;
            }
        }
        finally
        {
            foreach (Tensor tensor in state.Values)
            {
                tensor.Dispose();
            }
        }
    }

    /// <summary>
    /// Writes the model as a Hugging Face directory that <c>transformers</c>' <c>BertForSequenceClassification.from_pretrained</c>,
    /// <see cref="FromPretrained(string, IReadOnlyList{string}?, ClassifierLoadOptions?)"/> and <c>TextClassifier.FromPretrained</c> load:
    /// <c>config.json</c> (with <c>architectures</c>, <c>id2label</c>, <c>label2id</c>, <c>problem_type</c>) and
    /// <c>model.safetensors</c> (<c>bert.*</c>, <c>classifier.*</c>). The folder appears complete or not at all: it is
    /// written aside and renamed into place.
    /// </summary>
    /// <param name="directory">The target folder; an existing one is replaced.</param>
    /// <param name="tokenizer">Also writes the tokenizer files, so the folder is self-contained for <see cref="TextClassifier"/>.</param>
    /// <exception cref="UnauthorizedAccessException">The folder cannot be written; the message names it.</exception>
    public void SavePretrained(string directory, BertTokenizer? tokenizer = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        AtomicDirectory.Write(directory, temp => WriteFiles(temp, tokenizer is null ? null : tokenizer.SavePretrained));
    }

    /// <summary>Writes config, weights (and tokenizer files) into an existing folder, file by file.</summary>
    internal void WriteFiles(string directory, Action<string>? writeTokenizer)
    {
        Dictionary<string, Tensor> state = state_dict();
        CheckpointFiles.SaveStateDict(directory, state);
        Config.Save(Path.Combine(directory, "config.json"));
        writeTokenizer?.Invoke(directory);
    }

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
