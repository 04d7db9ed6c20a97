using System.Text.Json;
using Bert.Sharp.Checkpoints;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace Bert.Sharp.Training;

/// <summary>
/// A resumable checkpoint folder: <c>config.json</c> + <c>model.safetensors</c> (a complete Hugging Face model),
/// <c>optimizer.bin</c> (TorchSharp's AdamW state), <c>rng_state.bin</c> (torch's CPU generator) and
/// <c>trainer_state.json</c>. Written aside and renamed into place, so it is complete or absent.
/// </summary>
internal static class TrainingCheckpoint
{
    public const string Prefix = "checkpoint-";
    private const string OptimizerFile = "optimizer.bin";
    private const string RngFile = "rng_state.bin";
    private const string StateFile = "trainer_state.json";

    public static string Save(string outputDirectory, BertForSequenceClassification model, TrainableOptimizer optimizer, TrainerState state, Action<string>? writeTokenizer)
    {
        string directory = Path.Combine(outputDirectory, $"{Prefix}{state.GlobalStep}");
        AtomicDirectory.Write(directory, temp =>
        {
            model.WriteFiles(temp, writeTokenizer);
            using (FileStream stream = File.Create(Path.Combine(temp, OptimizerFile)))
            {
                optimizer.Save(stream);
            }

            using (Tensor rng = TorchSharp.torch.random.get_rng_state())
            {
                File.WriteAllBytes(Path.Combine(temp, RngFile), rng.data<byte>().ToArray());
            }

            File.WriteAllText(Path.Combine(temp, StateFile), JsonSerializer.Serialize(state, TrainerState.Json));
        });
        return directory;
    }

    public static bool IsCheckpoint(string directory) => File.Exists(Path.Combine(directory, StateFile));

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

        if (state is null || state.Version != TrainerState.CurrentVersion)
        {
            throw new InvalidDataException($"'{file}' has trainer state version {state?.Version}; this library reads version {TrainerState.CurrentVersion}.");
        }

        return state;
    }

    /// <summary>Loads the weights (strictly: the checkpoint must be of this very model) into <paramref name="model"/>.</summary>
    public static void LoadWeights(string directory, BertForSequenceClassification model, ILogger logger)
    {
        Dictionary<string, Tensor> weights = CheckpointFiles.LoadStateDict(directory);
        try
        {
            StateDictLoader.Load(model, weights, BertModel.BasePrefix, strict: true, logger, directory);
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

    public static void RestoreRng(string directory)
    {
        string file = Path.Combine(directory, RngFile);
        if (!File.Exists(file))
        {
            throw new FileNotFoundException($"Checkpoint '{directory}' has no {RngFile}.", file);
        }

        byte[] bytes = File.ReadAllBytes(file);
        using Tensor current = TorchSharp.torch.random.get_rng_state();
        if (bytes.Length != current.numel())
        {
            throw new InvalidDataException($"'{file}' holds {bytes.Length} bytes of generator state; this LibTorch expects {current.numel()}.");
        }

        using Tensor saved = tensor(bytes, dtype: ScalarType.Byte);
        TorchSharp.torch.random.set_rng_state(saved);
    }

    /// <summary>Deletes the oldest <c>checkpoint-N</c> folders beyond <paramref name="limit"/>, never <paramref name="keep"/>.</summary>
    public static void Rotate(string outputDirectory, int limit, string keep)
    {
        var checkpoints = Directory.GetDirectories(outputDirectory, Prefix + "*")
            .Select(d => (Dir: d, Step: int.TryParse(Path.GetFileName(d).AsSpan(Prefix.Length), out int s) ? s : -1))
            .Where(x => x.Step >= 0)
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
}
