using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bert.Sharp.Models;

/// <summary>
/// The default pretrained model, all-MiniLM-L6-v2, as a Hugging Face directory ready for
/// <see cref="BertModel.FromPretrained(string, BertLoadOptions?)"/> and the tokenizer. Use it when an application needs a
/// real pretrained BERT without any download: the model is embedded in this package (converted from ONNX when the package
/// was built); the first call writes it into a cache folder (about a second), later calls return at once.
/// </summary>
/// <remarks>
/// The folder is also a sentence-transformers folder, as sentence-transformers/all-MiniLM-L6-v2 is published:
/// <c>modules.json</c> (Transformer, Pooling, Normalize), <c>1_Pooling/config.json</c> (mean pooling — the pooling the
/// model was trained for; its pooler layer was never tuned), <c>sentence_bert_config.json</c> (256 word pieces) and
/// <c>config_sentence_transformers.json</c>. The model files are Apache-2.0 (see NOTICE.md in the package).
/// </remarks>
public static partial class MiniLmModel
{
    /// <summary>The model's name, used as the cache folder name.</summary>
    public const string Name = "all-MiniLM-L6-v2";

    /// <summary>Environment variable naming the root of Bert.Sharp's cache (default <c>~/.cache/bert-sharp</c>).</summary>
    public const string CacheEnvironmentVariable = "BERT_SHARP_CACHE";

    // Holds the embedded manifest's text: a cache is complete when its marker equals the manifest of this very package, so
    // caches written by older versions (format 2: imported at run time, legacy pooling key) or of other models are rebuilt.
    private const string MarkerFile = "bert-sharp-import.json";

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
    /// Returns a Hugging Face directory holding all-MiniLM-L6-v2 (<c>config.json</c>, <c>model.safetensors</c>,
    /// <c>vocab.txt</c>, <c>tokenizer.json</c>, <c>tokenizer_config.json</c>, <c>special_tokens_map.json</c>, and the
    /// sentence-transformers files <c>modules.json</c>, <c>1_Pooling/config.json</c>, <c>sentence_bert_config.json</c>,
    /// <c>config_sentence_transformers.json</c>), extracting it from this package on first use.
    /// Safe when several processes call it at once: each extracts into its own temporary folder, and the first to rename
    /// its folder into place wins; the others discard theirs.
    /// </summary>
    /// <param name="cacheDirectory">The model directory to use; <c>null</c> for <see cref="DefaultDirectory"/>.</param>
    /// <param name="loggerFactory">Receives a message when an extraction happens; <c>null</c> logs nothing.</param>
    /// <returns>The full path of the model directory.</returns>
    /// <exception cref="IOException">The directory cannot be written, another process left it incomplete, or it holds files
    /// that are not the model's (a folder of the user's is never replaced).</exception>
    public static string EnsureImported(string? cacheDirectory = null, ILoggerFactory? loggerFactory = null)
    {
        ILogger logger = loggerFactory?.CreateLogger(typeof(MiniLmModel)) ?? NullLogger.Instance;
        string target = Path.GetFullPath(cacheDirectory ?? DefaultDirectory);
        if (IsComplete(target))
        {
            return target;
        }

        // Only a folder holding nothing but model files is ours to replace: a user's folder passed by mistake must
        // never be deleted.
        if (Directory.Exists(target) && EmbeddedModel.FirstForeignFile(target, MarkerFile) is string foreign)
        {
            throw new IOException($"'{target}' is not a {Name} cache folder: it holds '{foreign}', which is not a file of the model. " +
                "EnsureImported replaces only a folder of its own; pass a new or empty folder.");
        }

        string parent = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(parent);
        string staging = Path.Combine(parent, $".{Path.GetFileName(target)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            LogExtracting(logger, Name, target);
            Directory.CreateDirectory(staging);
            EmbeddedModel.ExtractTo(staging);
            File.WriteAllText(Path.Combine(staging, MarkerFile), EmbeddedModel.ManifestText);

            if (Directory.Exists(target) && !IsComplete(target))
            {
                // A stale or partial cache (older format, or files removed by hand): move it aside, then replace it.
                string stale = staging + ".stale";
                TryMove(target, stale);
                TryDelete(stale);
            }

            if (!TryMove(staging, target) && !IsComplete(target))
            {
                throw new IOException($"Could not place the {Name} model at '{target}'.");
            }

            return target;
        }
        finally
        {
            TryDelete(staging);
        }
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
            return File.ReadAllText(marker) == EmbeddedModel.ManifestText && EmbeddedModel.HasAllFiles(directory);
        }
        catch (IOException)
        {
            return false;
        }
    }
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

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Extracting {Model} into '{Directory}' (first use)")]
    private static partial void LogExtracting(ILogger logger, string model, string directory);
}
