using Bert.Sharp.Hub;

namespace Bert.Sharp;

/// <summary>Settings for <see cref="PretrainedResolver"/>.</summary>
public sealed record PretrainedResolveOptions
{
    /// <summary>Branch, tag or commit of the model on the Hub; default <c>main</c>. Ignored for a local directory.</summary>
    public string? Revision { get; init; }

    /// <summary>Hub client settings (endpoint, token, cache, offline, logger); <c>null</c> reads the environment.</summary>
    public HubClientOptions? Hub { get; init; }

    /// <summary>Receives per-file download progress.</summary>
    public IProgress<HubDownloadProgress>? Progress { get; init; }
}

/// <summary>
/// Turns the argument of every <c>FromPretrained(directoryOrModelId)</c> into a local directory: an existing directory
/// is used as it is; anything else is a Hugging Face model id whose files are fetched into the shared cache (or found
/// there, offline too).
/// </summary>
/// <remarks>
/// The files fetched for a model id are <c>config.json</c>; <c>vocab.txt</c>, <c>tokenizer_config.json</c>,
/// <c>special_tokens_map.json</c>, <c>tokenizer.json</c> and <c>added_tokens.json</c> when the repository has them;
/// and one weights file, <c>model.safetensors</c> in preference to <c>pytorch_model.bin</c>.
/// <see cref="ResolveDirectory"/> blocks while downloading; applications that can await should use
/// <see cref="ResolveDirectoryAsync"/> or <see cref="HubClient"/> directly.
/// </remarks>
public static class PretrainedResolver
{
    /// <summary>
    /// Returns <paramref name="directoryOrModelId"/> itself (as a full path) when it is an existing directory, else
    /// downloads the model's standard files from the Hub and returns the snapshot folder holding them. Blocks; see
    /// <see cref="ResolveDirectoryAsync"/>.
    /// </summary>
    /// <param name="directoryOrModelId">A local directory, or a model id such as <c>google-bert/bert-base-uncased</c>.</param>
    /// <param name="options">Revision, Hub settings and progress; <c>null</c> for the defaults.</param>
    /// <param name="cancellationToken">Cancels a download.</param>
    /// <returns>A directory holding <c>config.json</c>, the weights and the tokenizer files.</returns>
    /// <exception cref="DirectoryNotFoundException">The argument looks like a path and no such directory exists.</exception>
    /// <exception cref="ArgumentException">The argument is neither a directory nor a valid model id.</exception>
    /// <exception cref="HubException">The model could not be fetched: not found, gated, offline and not cached, a failed transfer.</exception>
    public static string ResolveDirectory(string directoryOrModelId, PretrainedResolveOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        if (TryLocal(directoryOrModelId) is string local)
        {
            return local;
        }

        // Run on the thread pool so a caller's synchronization context (UI, old ASP.NET) cannot deadlock the wait.
        return Task.Run(() => ResolveDirectoryAsync(directoryOrModelId, options, cancellationToken), cancellationToken)
            .GetAwaiter().GetResult();
    }

    /// <summary>The asynchronous form of <see cref="ResolveDirectory"/>.</summary>
    /// <param name="directoryOrModelId">A local directory, or a model id such as <c>google-bert/bert-base-uncased</c>.</param>
    /// <param name="options">Revision, Hub settings and progress; <c>null</c> for the defaults.</param>
    /// <param name="cancellationToken">Cancels a download.</param>
    /// <returns>A directory holding <c>config.json</c>, the weights and the tokenizer files.</returns>
    /// <exception cref="DirectoryNotFoundException">The argument looks like a path and no such directory exists.</exception>
    /// <exception cref="ArgumentException">The argument is neither a directory nor a valid model id.</exception>
    /// <exception cref="HubException">The model could not be fetched: not found, gated, offline and not cached, a failed transfer.</exception>
    public static async Task<string> ResolveDirectoryAsync(string directoryOrModelId, PretrainedResolveOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        if (TryLocal(directoryOrModelId) is string local)
        {
            return local;
        }

        options ??= new PretrainedResolveOptions();
        string revision = options.Revision ?? HubNames.DefaultRevision;
        HubNames.ValidateRevision(revision, nameof(options));
        using var client = new HubClient(options.Hub);
        return await client.DownloadSelectionAsync(directoryOrModelId, revision, new PretrainedSelection(), options.Progress, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>The directory itself when it exists; <c>null</c> for a valid model id; an exception otherwise.</summary>
    private static string? TryLocal(string directoryOrModelId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directoryOrModelId);
        if (Directory.Exists(directoryOrModelId))
        {
            return Path.GetFullPath(directoryOrModelId);
        }

        if (File.Exists(directoryOrModelId))
        {
            throw new ArgumentException(
                $"'{directoryOrModelId}' is a file; pass the directory that holds config.json and the weights.", nameof(directoryOrModelId));
        }

        string? problem = HubNames.CheckRepoId(directoryOrModelId);
        if (problem is null)
        {
            return null;
        }

        bool looksLikePath = Path.IsPathRooted(directoryOrModelId) || directoryOrModelId.StartsWith('.') ||
            directoryOrModelId.StartsWith('~') || directoryOrModelId.Contains('\\', StringComparison.Ordinal) ||
            directoryOrModelId.Count(c => c == '/') > 1;
        string message = $"'{directoryOrModelId}' is neither an existing directory nor a valid Hugging Face model id ({problem}).";
        if (looksLikePath)
        {
            throw new DirectoryNotFoundException(message);
        }

        throw new ArgumentException(message, nameof(directoryOrModelId));
    }
}
