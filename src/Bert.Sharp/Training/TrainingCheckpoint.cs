using System.Text.Json;
using Bert.Sharp.Checkpoints;
using Bert.Sharp.IO;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Training;

/// <summary>
/// A resumable checkpoint folder: <c>config.json</c> + <c>model.safetensors</c> (+ tokenizer files: a complete Hugging Face
/// model), <c>optimizer.bin</c> (TorchSharp's AdamW state), <c>rng_state.bin</c> (the run's dropout generator) and
/// <c>trainer_state.json</c>. The folder belongs to the trainer; it is written aside and renamed into place, so it is
/// complete or absent. <c>trainer_state.json</c> is written last and records the SHA-256 of every other file, which a
/// resume verifies before it loads anything (<see cref="CheckpointIntegrity"/>).
/// </summary>
internal static class TrainingCheckpoint
{
    public const string Prefix = "checkpoint-";
    private const string OptimizerFile = FolderFileNames.OptimizerState;
    private const string RngFile = FolderFileNames.RngState;
    private const string StateFile = FolderFileNames.TrainerState;

    public static string Save(string outputDirectory, TrainingTask task, TrainableOptimizer optimizer, TrainerState state, Generator generator)
    {
        string directory = Path.Combine(outputDirectory, $"{Prefix}{state.GlobalStep}");
        AtomicDirectory.Write(directory, temp =>
        {
            task.SaveModel(temp);
            using (FileStream stream = File.Create(Path.Combine(temp, OptimizerFile)))
            {
                optimizer.Save(stream);
            }

            using (Tensor rng = generator.get_state())
            {
                File.WriteAllBytes(Path.Combine(temp, RngFile), Runtime.HostRead.Values<byte>(rng));
            }

            state.Version = TrainerState.CurrentVersion;
            state.Files = CheckpointIntegrity.HashFiles(temp, StateFile);
            File.WriteAllText(Path.Combine(temp, StateFile), JsonSerializer.Serialize(state, TrainerState.Json));
        });
        return directory;
    }

    /// <summary>Saves the model (and tokenizer) into <paramref name="directory"/> as one additive unit (the best model).</summary>
    public static void SaveModel(TrainingTask task, string directory) => task.SaveModel(directory);

    /// <summary>
    /// Reads <c>trainer_state.json</c> and checks, before anything else is loaded, that it belongs to <paramref name="run"/>,
    /// that its values are consistent, and that every file of the checkpoint is the one saved with it (SHA-256).
    /// </summary>
    /// <exception cref="FileNotFoundException">The state or a listed file is missing.</exception>
    /// <exception cref="InvalidDataException">The state is malformed or inconsistent, or a file changed; the message names the file (and key).</exception>
    /// <exception cref="InvalidOperationException">The checkpoint belongs to another run.</exception>
    public static TrainerState Open(string directory, ResumeShape run, ILogger logger)
    {
        TrainerState state = ReadState(directory);
        string file = Path.Combine(directory, StateFile);
        CheckpointIntegrity.CheckRun(state, run, directory);
        CheckpointIntegrity.CheckState(state, run, file);
        CheckpointIntegrity.VerifyFiles(directory, state, file, logger);
        return state;
    }

    public static TrainerState ReadState(string directory)
    {
        string file = Path.Combine(directory, StateFile);
        if (!File.Exists(file))
        {
            throw new FileNotFoundException($"'{directory}' is not a training checkpoint: {StateFile} is missing.", file);
        }

        TrainerState? state;
        try
        {
            state = JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(file), TrainerState.Json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{file}' is not a valid trainer state: {e.Message}", e);
        }

        if (state is null || state.Version < TrainerState.OldestReadableVersion || state.Version > TrainerState.CurrentVersion)
        {
            throw new InvalidDataException($"'{file}' has trainer state version {state?.Version}; this library reads versions {TrainerState.OldestReadableVersion} to {TrainerState.CurrentVersion}.");
        }

        return state;
    }

    /// <summary>Loads the weights (strictly: the checkpoint must be of this very model) into <paramref name="model"/>.</summary>
    public static void LoadWeights(string directory, BertTaskModel model, ILogger logger)
    {
        ModelFolderWriter.Recover(directory);
        if (BertTaskModel.IsAdapterFolder(directory))
        {
            model.Adapters.ReloadActive(directory);
            return;
        }

        Dictionary<string, Tensor> weights = CheckpointFiles.LoadStateDict(directory);
        try
        {
            StateDictLoader.Load(model, weights, model.Bert.Family.BasePrefix, strict: true, logger, directory);
        }
        finally
        {
            foreach (Tensor t in weights.Values)
            {
                t.Dispose();
            }
        }
    }

    public static void LoadOptimizer(string directory, TrainableOptimizer optimizer)
    {
        string file = Path.Combine(directory, OptimizerFile);
        if (!File.Exists(file))
        {
            throw new FileNotFoundException($"Checkpoint '{directory}' has no {OptimizerFile}.", file);
        }

        using FileStream stream = File.OpenRead(file);
        optimizer.Load(stream, directory);
    }

    public static void RestoreRng(string directory, Generator generator)
    {
        string file = Path.Combine(directory, RngFile);
        if (!File.Exists(file))
        {
            throw new FileNotFoundException($"Checkpoint '{directory}' has no {RngFile}.", file);
        }

        byte[] bytes = File.ReadAllBytes(file);
        using Tensor current = generator.get_state();
        if (bytes.Length != current.numel())
        {
            throw new InvalidDataException($"'{file}' holds {bytes.Length} bytes of generator state; this LibTorch expects {current.numel()}.");
        }

        using Tensor saved = tensor(bytes, dtype: ScalarType.Byte);
        generator.set_state(saved);
    }

    /// <summary>
    /// Deletes the oldest of this run's <c>checkpoint-N</c> folders beyond <paramref name="limit"/>, never <paramref name="keep"/>;
    /// checkpoints of other runs in the same folder (another <c>run_id</c>) are left alone.
    /// </summary>
    public static void Rotate(string outputDirectory, int limit, string keep, string runId)
    {
        var checkpoints = Directory.GetDirectories(outputDirectory, Prefix + "*")
            .Select(d => (Dir: d, Step: int.TryParse(Path.GetFileName(d).AsSpan(Prefix.Length), out int s) ? s : -1))
            .Where(x => x.Step >= 0 && RunIdOf(x.Dir) == runId)
            .OrderBy(x => x.Step)
            .ToList();
        int excess = checkpoints.Count - limit;
        foreach ((string dir, int _) in checkpoints)
        {
            if (excess <= 0)
            {
                break;
            }

            if (!string.Equals(Path.GetFullPath(dir), Path.GetFullPath(keep), StringComparison.Ordinal))
            {
                AtomicDirectory.TryDelete(dir);
                excess--;
            }
        }
    }

    private static string? RunIdOf(string directory)
    {
        try
        {
            return ReadState(directory).RunId;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            return null; // not a checkpoint of a run we can read: not ours to delete
        }
    }
}
