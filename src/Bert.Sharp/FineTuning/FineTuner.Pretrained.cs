using Bert.Sharp.Inference;
using Bert.Sharp.Training;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bert.Sharp;

// The one-call path: from a pretrained folder (or Hub id) to a saved, servable classifier.
public sealed partial class FineTuner
{
    /// <summary>
    /// Loads <paramref name="pretrainedDirectoryOrModelId"/> with a new head for the labels found in <paramref name="train"/>,
    /// trains it, and saves the final model (with its tokenizer) to <paramref name="outputDirectory"/>, ready for
    /// <see cref="TextClassifier.FromPretrained(string, TextClassifierOptions?)"/>. Saving is additive: other files in the
    /// output folder are left alone.
    /// </summary>
    /// <param name="pretrainedDirectoryOrModelId">A base (or fine-tuned) checkpoint directory or hub id.</param>
    /// <param name="outputDirectory">Where the trained model goes. Checkpoints go beside it, to <c>outputDirectory.checkpoints</c>,
    /// unless <see cref="FineTuningOptions.OutputDirectory"/> says otherwise; that folder is deleted after a successful run
    /// unless <see cref="FineTuningOptions.KeepCheckpoints"/> is set or <see cref="FineTuningOptions.OutputDirectory"/> was given.</param>
    /// <param name="train">Training examples; the distinct labels become the classes, sorted.</param>
    /// <param name="validation">Optional validation examples.</param>
    /// <param name="options">Training settings. <see cref="FineTuningOptions.Seed"/> also fixes the new head's initial weights
    /// (from a generator of its own: torch's global generator is not touched), so a run reproduces its numbers.</param>
    /// <param name="progress">Progress reports.</param>
    /// <param name="cancellationToken">Cancels training (a checkpoint is written first).</param>
    public static TrainingReport Train(string pretrainedDirectoryOrModelId, string outputDirectory, IReadOnlyList<LabeledExample> train, IReadOnlyList<LabeledExample>? validation = null,
        FineTuningOptions? options = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(pretrainedDirectoryOrModelId);
        ArgumentException.ThrowIfNullOrEmpty(outputDirectory);
        ArgumentNullException.ThrowIfNull(train);
        options ??= new FineTuningOptions();
        options.Validate();
        AtomicDirectory.RequireWritable(Path.GetFullPath(outputDirectory), "output directory");
        IReadOnlyList<string> labels = LabeledDataset.DistinctLabels(train);
        ProblemType problemType = train.Count > 0 && train.All(e => e.Value is not null) ? ProblemType.Regression
            : train.Any(e => e.Label is null) ? ProblemType.MultiLabelClassification : ProblemType.SingleLabelClassification;
        if (problemType == ProblemType.Regression)
        {
            labels = ["LABEL_0"];
        }

        string directory = PretrainedResolver.ResolveDirectory(pretrainedDirectoryOrModelId, cancellationToken: cancellationToken);
        // WordPiece folders train with BertTokenizer (written into every checkpoint); RoBERTa / XLM-R folders with their tokenizer.json.
        BertTokenizer? tokenizer = ServingTextEncoders.IsSubword(directory) ? null : BertTokenizer.FromPretrained(directory);
        using BertForSequenceClassification model = BertForSequenceClassification.FromPretrained(directory, labels, new ClassifierLoadOptions
        {
            ProblemType = problemType,
            Seed = options.Seed,
            LoggerFactory = options.LoggerFactory,
        });
        string fullOutput = Path.TrimEndingDirectorySeparator(Path.GetFullPath(outputDirectory));
        string checkpoints = options.OutputDirectory ?? fullOutput + ".checkpoints";

        // Only a folder this run creates is deleted after it: one that was already there (an earlier run's kept
        // checkpoints, or anything of the user's) is never removed.
        bool existedBefore = Directory.Exists(checkpoints);
        bool temporaryCheckpoints = options.OutputDirectory is null && !options.KeepCheckpoints && !existedBefore;
        ILogger logger = options.LoggerFactory?.CreateLogger<FineTuner>() ?? NullLogger<FineTuner>.Instance;
        if (temporaryCheckpoints)
        {
            TrainingLog.CheckpointsTemporary(logger, checkpoints, $"{nameof(FineTuningOptions)}.{nameof(FineTuningOptions.KeepCheckpoints)}");
        }
        else
        {
            string reason = options.OutputDirectory is not null ? $"{nameof(FineTuningOptions)}.{nameof(FineTuningOptions.OutputDirectory)} set"
                : options.KeepCheckpoints ? $"{nameof(FineTuningOptions)}.{nameof(FineTuningOptions.KeepCheckpoints)} = true"
                : "the folder existed before this run";
            TrainingLog.CheckpointsKept(logger, checkpoints, reason);
        }

        options = options with { OutputDirectory = checkpoints };
        ITextEncoder encoder = tokenizer is null ? ServingTextEncoders.Load(directory, model.Bert.Config.PadTokenId) : new TokenizerTextEncoder(tokenizer);
        var tuner = new FineTuner(model, encoder, tokenizer, options);
        SubwordTokenizer? subword = (encoder as SubwordTextEncoder)?.Tokenizer;
        tuner.task.SubwordTokenizer = subword;
        TrainingReport report = tuner.Train(train, validation, progress, cancellationToken);
        if (subword is not null)
        {
            model.SavePretrained(outputDirectory, subword);
        }
        else
        {
            model.SavePretrained(outputDirectory, tokenizer);
        }
        if (temporaryCheckpoints)
        {
            AtomicDirectory.TryDelete(checkpoints);
            TrainingLog.CheckpointsDeleted(logger, checkpoints, fullOutput);
            report = report with { BestModelDirectory = null, LastCheckpoint = null };
        }

        return report;
    }
}
