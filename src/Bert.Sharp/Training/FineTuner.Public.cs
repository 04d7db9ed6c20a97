using Bert.Sharp.Training;
using Microsoft.Extensions.Logging;

namespace Bert.Sharp;

// The ways an application creates a trainer.
public sealed partial class FineTuner
{
    /// <summary>Creates a trainer for <paramref name="model"/>, tokenizing with <paramref name="tokenizer"/>.</summary>
    /// <param name="model">The classifier to train (usually from <see cref="BertForSequenceClassification.FromPretrained(string, IReadOnlyList{string}?, ClassifierLoadOptions?)"/>).</param>
    /// <param name="tokenizer">The tokenizer of the model's checkpoint; written into every checkpoint and best-model folder.</param>
    /// <param name="options">Training settings; <c>null</c> for Hugging Face's defaults (full fine-tuning, 3 epochs).</param>
    /// <param name="logger">Receives progress and warnings; <c>null</c> logs nothing.</param>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public FineTuner(BertForSequenceClassification model, BertTokenizer tokenizer, FineTuningOptions? options = null, ILogger? logger = null)
        : this(model, new TokenizerTextEncoder(tokenizer), tokenizer is null ? null : tokenizer.SavePretrained, options, logger)
    {
    }

    /// <summary>
    /// The one-line path: loads <paramref name="pretrainedDirectoryOrModelId"/> with a new head for the labels found in
    /// <paramref name="train"/>, trains it, and saves the final model (with its tokenizer) to <paramref name="outputDirectory"/>,
    /// ready for <see cref="TextClassifier.FromPretrained(string, TextClassifierOptions?)"/>.
    /// </summary>
    /// <param name="pretrainedDirectoryOrModelId">A base (or fine-tuned) checkpoint directory or hub id.</param>
    /// <param name="outputDirectory">Where the trained model goes. Checkpoints go beside it, to <c>outputDirectory.checkpoints</c>
    /// (not inside: saving the final model replaces the whole output folder).</param>
    /// <param name="train">Training examples; the distinct labels become the classes, sorted.</param>
    /// <param name="validation">Optional validation examples.</param>
    /// <param name="options">Training settings; <see cref="FineTuningOptions.OutputDirectory"/> defaults to <c>outputDirectory.checkpoints</c>.
    /// <see cref="FineTuningOptions.Seed"/> also fixes the new head's initial weights, so a run reproduces its numbers.</param>
    /// <param name="progress">Progress reports.</param>
    /// <param name="logger">Logs.</param>
    /// <param name="cancellationToken">Cancels training (a checkpoint is written first).</param>
    public static TrainingReport Train(string pretrainedDirectoryOrModelId, string outputDirectory, IReadOnlyList<LabeledExample> train, IReadOnlyList<LabeledExample>? validation = null,
        FineTuningOptions? options = null, IProgress<TrainingProgress>? progress = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(pretrainedDirectoryOrModelId);
        ArgumentException.ThrowIfNullOrEmpty(outputDirectory);
        ArgumentNullException.ThrowIfNull(train);
        AtomicDirectory.RequireWritable(Path.GetDirectoryName(Path.GetFullPath(outputDirectory))!, "output directory");
        IReadOnlyList<string> labels = LabeledDataset.DistinctLabels(train);
        ProblemType problemType = train.Count > 0 && train.All(e => e.Value is not null) ? ProblemType.Regression
            : train.Any(e => e.Label is null) ? ProblemType.MultiLabelClassification : ProblemType.SingleLabelClassification;
        if (problemType == ProblemType.Regression)
        {
            labels = ["LABEL_0"];
        }

        string directory = PretrainedResolver.ResolveDirectory(pretrainedDirectoryOrModelId, cancellationToken: cancellationToken);
        BertTokenizer tokenizer = BertTokenizer.FromPretrained(directory);
        options ??= new FineTuningOptions();
        TorchSharp.torch.manual_seed(options.Seed); // the new head's initial weights are part of a reproducible run
        using BertForSequenceClassification model = BertForSequenceClassification.FromPretrained(directory, labels, new ClassifierLoadOptions { ProblemType = problemType });
        string fullOutput = Path.TrimEndingDirectorySeparator(Path.GetFullPath(outputDirectory));
        options = options with { OutputDirectory = options.OutputDirectory ?? fullOutput + ".checkpoints" };
        TrainingReport report = new FineTuner(model, tokenizer, options, logger).Train(train, validation, progress, cancellationToken);
        model.SavePretrained(outputDirectory, tokenizer);
        return report;
    }
}
