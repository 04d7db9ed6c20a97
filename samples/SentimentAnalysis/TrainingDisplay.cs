using Bert.Sharp;
using Spectre.Console;

namespace SentimentAnalysis;

/// <summary>
/// Shows training as it runs: on a terminal a live progress bar, otherwise (output redirected to a file or a CI log) a
/// plain line every 10% of the steps. Both read: epoch, step/total, smoothed loss, learning rate, samples/s and an ETA,
/// and print each evaluation on a line of its own.
/// </summary>
internal sealed class TrainingDisplay : IProgress<TrainingProgress>
{
    private const double LossSmoothing = 0.9; // EMA weight of the past: about the last 10 steps count.
    private const int RateWindow = 20; // Steps over which the speed for the ETA is measured.

    private readonly ProgressTask? _task;
    private readonly Queue<(int Step, TimeSpan Elapsed)> _recent = new();
    private double _lossAverage;
    private int _lossCount;
    private int _nextPrintedStep = 1;
    private int _evaluations;
    private TimeSpan _lastElapsed;
    private TimeSpan _evaluationTime;

    private TrainingDisplay(ProgressTask? task) => _task = task;

    /// <summary>Runs <paramref name="tuner"/> with the display suited to the console.</summary>
    public static TrainingReport Train(FineTuner tuner, IReadOnlyList<LabeledExample> train, IReadOnlyList<LabeledExample> test, CancellationToken cancellationToken)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            return tuner.Train(train, test, new TrainingDisplay(null), cancellationToken);
        }

        TrainingReport report = null!;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn { Width = 20 }, new PercentageColumn())
            .Start(context => report = tuner.Train(train, test, new TrainingDisplay(context.AddTask("starting", maxValue: 1)), cancellationToken));
        return report;
    }

    public void Report(TrainingProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Evaluation is { } evaluation)
        {
            _evaluations++;
            _evaluationTime = value.Elapsed - _lastElapsed;
            _lastElapsed = value.Elapsed;
            string accuracy = double.IsNaN(evaluation.Accuracy) ? "" : $"   accuracy {evaluation.Accuracy:P1}   macro F1 {evaluation.MacroF1:P1}";
            AnsiConsole.MarkupLineInterpolated($"  [green]evaluation[/] after epoch {value.EpochProgress:0.##}: loss {evaluation.Loss:F4}{accuracy}");
            return;
        }

        _lastElapsed = value.Elapsed;
        _recent.Enqueue((value.Step, value.Elapsed));
        if (_recent.Count > RateWindow)
        {
            _recent.Dequeue();
        }

        if (double.IsFinite(value.Loss))
        {
            _lossAverage = (LossSmoothing * _lossAverage) + ((1 - LossSmoothing) * value.Loss);
            _lossCount++;
        }

        double smoothed = _lossCount == 0 ? double.NaN : _lossAverage / (1 - Math.Pow(LossSmoothing, _lossCount));
        int epoch = Math.Min(value.Epoch + 1, value.TotalEpochs);
        string line = $"epoch {epoch}/{value.TotalEpochs}  step {value.Step.ToString().PadLeft(value.TotalSteps.ToString().Length)}/{value.TotalSteps}  "
            + $"loss {smoothed:F4} (smoothed)  lr {value.LearningRate:0.0e+00}  {value.SamplesPerSecond,5:F1} samples/s  ETA {Eta(value)}";
        if (_task is not null)
        {
            _task.MaxValue = Math.Max(1, value.TotalSteps);
            _task.Value = value.Step;
            _task.Description = Markup.Escape(line);
            return;
        }

        if (value.Step >= _nextPrintedStep || value.Step == value.TotalSteps)
        {
            // Straight to the output: a log has no width, and Spectre would wrap the line at 80 columns.
            Console.Out.WriteLine("  " + line);
            int tenth = Math.Max(1, value.TotalSteps / 10);
            _nextPrintedStep = ((value.Step / tenth) + 1) * tenth;
        }
    }

    // Remaining steps at the speed of the last steps (the first epoch of transfer learning, which computes the cached
    // features, is much slower than the rest), plus the evaluations still to come. An evaluation (forward passes over
    // the smaller held-out set) is taken to cost what the last one did, but never more than an epoch of training at the
    // current speed: the first evaluation of transfer learning also computes the held-out set's cached features.
    private string Eta(TrainingProgress value)
    {
        int remaining = value.TotalSteps - value.Step;
        if (remaining <= 0)
        {
            return "done";
        }

        if (_recent.Count < 3)
        {
            return "...";
        }

        (int firstStep, TimeSpan firstElapsed) = _recent.Peek();
        double secondsPerStep = (value.Elapsed - firstElapsed).TotalSeconds / Math.Max(1, value.Step - firstStep);
        double evaluationsLeft = _evaluations == 0 ? 0 : Math.Round((double)remaining * _evaluations / value.Step);
        double epochSeconds = secondsPerStep * value.TotalSteps / Math.Max(1, value.TotalEpochs);
        double evaluationSeconds = Math.Min(_evaluationTime.TotalSeconds, epochSeconds);
        return Format(TimeSpan.FromSeconds((remaining * secondsPerStep) + (evaluationsLeft * evaluationSeconds)));
    }

    /// <summary>A duration as people read it: 42s, 3m 05s, 1h 02m.</summary>
    public static string Format(TimeSpan time) =>
        time.TotalMinutes < 1 ? $"{Math.Ceiling(time.TotalSeconds):0}s"
        : time.TotalHours < 1 ? $"{(int)time.TotalMinutes}m {time.Seconds:00}s"
        : $"{(int)time.TotalHours}h {time.Minutes:00}m";
}
