using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;

namespace Bert.Sharp.Training;

/// <summary>
/// What a resume checks before it loads anything of a checkpoint: that <c>trainer_state.json</c> belongs to this run
/// (<see cref="CheckRun"/>), that its values are consistent with one another and with the run (<see cref="CheckState"/>),
/// and that every other file is the one written with it (<see cref="VerifyFiles"/>: SHA-256 recorded at save).
/// </summary>
internal static class CheckpointIntegrity
{
    private const int HashHexLength = 64;

    /// <summary>SHA-256 of every file under <paramref name="directory"/> except <paramref name="exclude"/>, by relative path with <c>/</c>.</summary>
    public static Dictionary<string, string> HashFiles(string directory, string exclude)
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            string relative = Path.GetRelativePath(directory, file).Replace(Path.DirectorySeparatorChar, '/');
            if (!string.Equals(relative, exclude, StringComparison.Ordinal))
            {
                files[relative] = Hash(file);
            }
        }

        return files;
    }

    /// <summary>Refuses a checkpoint of another run (other options, data or seed).</summary>
    /// <exception cref="InvalidOperationException">The checkpoint belongs to a different run; the message names the folder and the value.</exception>
    public static void CheckRun(TrainerState saved, ResumeShape run, string directory)
    {
        string? mismatch =
            saved.TotalSteps != run.TotalSteps ? $"total steps {saved.TotalSteps} vs {run.TotalSteps}" :
            saved.BatchSize != run.BatchSize ? $"batch size {saved.BatchSize} vs {run.BatchSize}" :
            saved.GradientAccumulationSteps != run.GradientAccumulationSteps ? $"gradient accumulation {saved.GradientAccumulationSteps} vs {run.GradientAccumulationSteps}" :
            saved.TrainExamples != run.TrainExamples ? $"training examples {saved.TrainExamples} vs {run.TrainExamples}" :
            saved.DataFingerprint != run.DataFingerprint ? "the training data differs (same number of examples, other texts or labels)" :
            saved.Seed != run.Seed ? $"seed {saved.Seed} vs {run.Seed}" :
            saved.Precision is string was && was != run.Precision ? $"precision {was} vs {run.Precision}" :
            run.NeedsLossScaler && saved.LossScaler is null ? "it has no loss-scaler state for this float16 run" : null;
        if (mismatch is not null)
        {
            throw new InvalidOperationException($"Checkpoint '{directory}' belongs to a different run ({mismatch}); resume with the same options and training data.");
        }
    }

    /// <summary>
    /// Refuses a trainer state whose values cannot come from this run: a position outside it (<c>global_step</c> in
    /// [0, total steps], <c>epoch</c>, <c>batch_in_epoch</c>), a step count that does not agree with the epoch and batch,
    /// history of the wrong length, missing or non-finite values.
    /// </summary>
    /// <exception cref="InvalidDataException">The message names <paramref name="file"/> and the key.</exception>
    public static void CheckState(TrainerState s, ResumeShape run, string file)
    {
        Require(s.GlobalStep >= 0 && s.GlobalStep <= run.TotalSteps, "global_step", $"{s.GlobalStep} is outside [0, {run.TotalSteps}], the run's optimizer steps");
        Require(s.Epoch >= 0 && s.Epoch <= run.TotalEpochs, "epoch", $"{s.Epoch} is outside [0, {run.TotalEpochs}], the run's epochs");
        Require(s.BatchInEpoch >= 0 && s.BatchInEpoch <= run.BatchesPerEpoch, "batch_in_epoch", $"{s.BatchInEpoch} is outside [0, {run.BatchesPerEpoch}], the batches of an epoch");
        long expected = ((long)s.Epoch * run.UpdatesPerEpoch) + ((s.BatchInEpoch + (long)run.GradientAccumulationSteps - 1) / run.GradientAccumulationSteps);
        Require(expected == s.GlobalStep, "global_step", $"{s.GlobalStep} does not agree with epoch {s.Epoch} and batch_in_epoch {s.BatchInEpoch} ({run.UpdatesPerEpoch} steps per epoch make step {expected})");
        Require(s.Steps is not null && s.Steps.Count == s.GlobalStep && s.Steps.All(r => r is not null), "steps", $"holds {s.Steps?.Count.ToString(CultureInfo.InvariantCulture) ?? "null"} records for {s.GlobalStep} steps");
        Require(s.EpochLosses is not null && s.EpochLosses.Count == s.Epoch, "epoch_losses", $"holds {s.EpochLosses?.Count.ToString(CultureInfo.InvariantCulture) ?? "null"} losses for {s.Epoch} finished epochs");
        Require(s.Evaluations is not null && s.Evaluations.All(e => e is not null && e.Report is not null && e.Step >= 0 && e.Step <= s.GlobalStep), "evaluations", "is missing, or holds an empty record or one of a step not yet run");
        Require(s.OptimizerGroups is not null && s.OptimizerGroups.All(g => g is not null && g.Key is not null && g.Names is not null && g.Names.All(n => n is not null) && double.IsFinite(g.Scale) && g.Scale >= 0), "optimizer_groups", "is missing, or holds a group without key or names, or with a negative or non-finite scale");
        Require(s.BestStep >= 0 && s.BestStep <= s.GlobalStep, "best_step", $"{s.BestStep} is outside [0, {s.GlobalStep}]");
        Require(s.BestMetric is null || double.IsFinite(s.BestMetric.Value), "best_metric", "is not finite");
        Require(s.EvaluationsWithoutImprovement >= 0 && s.EvaluationsWithoutImprovement <= s.Evaluations!.Count, "evaluations_without_improvement", $"{s.EvaluationsWithoutImprovement} is outside [0, {s.Evaluations!.Count}]");
        Require(s.EpochLossCount >= 0 && s.EpochLossCount <= run.BatchesPerEpoch, "epoch_loss_count", $"{s.EpochLossCount} is outside [0, {run.BatchesPerEpoch}]");
        Require(double.IsFinite(s.EpochLossSum), "epoch_loss_sum", "is not finite");
        Require(s.RunId is not null, "run_id", "is missing");
        Require(s.LossScaler is null || (double.IsFinite(s.LossScaler.Scale) && s.LossScaler.Scale > 0 && s.LossScaler.CleanSteps >= 0 && s.LossScaler.SkippedSteps >= 0 && s.LossScaler.SkippedSteps <= s.GlobalStep), "loss_scaler", "holds a scale that is not a positive finite number, or negative or impossible step counts");

        void Require(bool ok, string key, string what)
        {
            if (!ok)
            {
                throw new InvalidDataException($"'{file}': '{key}' {what}; the checkpoint is damaged or not of this run.");
            }
        }
    }

    /// <summary>
    /// Checks every file of the checkpoint against the SHA-256 recorded in <c>trainer_state.json</c> when it was saved: a
    /// listed file changed, a file not listed, or a malformed list is refused. A version-2 checkpoint (written before the
    /// hashes) is accepted with a warning.
    /// </summary>
    /// <exception cref="InvalidDataException">A file differs from what was saved, is not listed, or the list is malformed; the message names the file.</exception>
    /// <exception cref="FileNotFoundException">A listed file is missing.</exception>
    public static void VerifyFiles(string directory, TrainerState state, string stateFile, ILogger logger)
    {
        if (state.Files is null)
        {
            if (state.Version >= 3)
            {
                throw new InvalidDataException($"'{stateFile}': 'files' (the SHA-256 of the checkpoint's files) is missing; the checkpoint is damaged.");
            }

            TrainingLog.UnverifiedCheckpoint(logger, directory, state.Version);
            return;
        }

        string root = Path.GetFullPath(directory);
        foreach ((string name, string? hash) in state.Files)
        {
            if (!IsPlainRelativePath(name) || hash is null || hash.Length != HashHexLength || !hash.All(char.IsAsciiHexDigitLower))
            {
                throw new InvalidDataException($"'{stateFile}': 'files' entry '{name}' is not a file of the checkpoint with a SHA-256 (64 lower-case hex digits).");
            }
        }

        foreach (string file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(root, file).Replace(Path.DirectorySeparatorChar, '/');
            if (!string.Equals(relative, Path.GetFileName(stateFile), StringComparison.Ordinal) && !state.Files.ContainsKey(relative))
            {
                throw new InvalidDataException($"'{file}' is not listed in '{stateFile}' (it was not written with the checkpoint); remove it or resume from another checkpoint.");
            }
        }

        foreach ((string name, string hash) in state.Files.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            string file = Path.Combine(root, name);
            if (!File.Exists(file))
            {
                throw new FileNotFoundException($"'{file}' is missing: '{stateFile}' lists it as part of the checkpoint.", file);
            }

            string actual = Hash(file);
            if (!string.Equals(actual, hash, StringComparison.Ordinal))
            {
                throw new InvalidDataException($"'{file}' has changed since the checkpoint was saved (SHA-256 {actual}, recorded {hash} in '{stateFile}'); the checkpoint is damaged: resume from another one.");
            }
        }
    }

    private static bool IsPlainRelativePath(string name) =>
        name.Length > 0 && name.Length <= 255 && !Path.IsPathRooted(name) && !name.Contains('\\', StringComparison.Ordinal) && !name.Contains('\0', StringComparison.Ordinal)
        && name.Split('/').All(part => part.Length > 0 && part != "." && part != "..");

    private static string Hash(string file)
    {
        using FileStream stream = File.OpenRead(file);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
