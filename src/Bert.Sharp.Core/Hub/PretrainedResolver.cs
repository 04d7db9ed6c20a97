using Bert.Sharp.Hub;

namespace Bert.Sharp;

/// <summary>Settings for <see cref="PretrainedResolver"/>.</summary>
public sealed record PretrainedResolveOptions
{
    /// <summary>Branch, tag or commit of the model on the Hub; default <c>main</c>. Ignored for a local directory.</summary>
    public string? Revision { get; init; }

    /// <summary>
    /// Hub client settings: endpoint, <see cref="HubClientOptions.Token"/> for private or gated models, cache folder,
    /// offline mode, retries and timeouts, logger. <c>null</c> reads the environment (<c>HF_TOKEN</c>, ...).
    /// </summary>
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
/// <para>
/// <see cref="ResolveDirectoryAsync(string, PretrainedResolveOptions?, CancellationToken)"/> is the implementation.
/// <see cref="ResolveDirectory(string, PretrainedResolveOptions?, CancellationToken)"/> is fully synchronous for a
/// local directory, in offline mode and for a pinned commit already cached; when it has to ask the Hub it blocks the
/// calling thread until the download ends (safely inside a UI or ASP.NET synchronization context: nothing is posted back
/// to it). Applications that can await — UI threads, request handlers — should use the asynchronous form.
/// </para>
/// </remarks>
public static class PretrainedResolver
{
    /// <summary>
    /// Returns <paramref name="directoryOrModelId"/> itself (as a full path) when it is an existing directory, else
    /// finds or downloads the model's standard files and returns the snapshot folder holding them. Blocks the calling
    /// thread while downloading; see <see cref="ResolveDirectoryAsync(string, PretrainedResolveOptions?, CancellationToken)"/>.
    /// </summary>
    /// <param name="directoryOrModelId">A local directory, or a model id such as <c>google-bert/bert-base-uncased</c>.</param>
    /// <param name="options">Revision, Hub settings (token, offline, timeouts) and progress; <c>null</c> for the defaults.</param>
    /// <param name="cancellationToken">Cancels a download.</param>
    /// <returns>A directory holding <c>config.json</c>, the weights and the tokenizer files.</returns>
    /// <exception cref="DirectoryNotFoundException">The argument looks like a path and no such directory exists.</exception>
    /// <exception cref="ArgumentException">The argument is neither a directory nor a valid model id, or an option is out of range.</exception>
    /// <exception cref="HubException">The model could not be fetched: not found, gated, offline and not cached, a failed or timed-out transfer.</exception>
    public static string ResolveDirectory(string directoryOrModelId, PretrainedResolveOptions? options = null,
        CancellationToken cancellationToken = default) =>
        TryLocal(directoryOrModelId) ?? WaitWithoutContext(() => ResolveFromHubAsync(directoryOrModelId, options, cacheFirst: true, cancellationToken));

    /// <summary>
    /// <see cref="ResolveDirectory(string, PretrainedResolveOptions?, CancellationToken)"/> with Hub settings — a token for a
    /// private or gated model, say — and progress, at the default revision. (Every parameter is required so that a call with
    /// two or three arguments, <c>new() { ... }</c> included, is never ambiguous: it binds to the other overload.)
    /// </summary>
    /// <param name="directoryOrModelId">A local directory, or a model id such as <c>google-bert/bert-base-uncased</c>.</param>
    /// <param name="options">Hub settings; <c>null</c> reads the environment.</param>
    /// <param name="progress">Receives per-file download progress.</param>
    /// <param name="cancellationToken">Cancels a download.</param>
    /// <returns>A directory holding <c>config.json</c>, the weights and the tokenizer files.</returns>
    /// <exception cref="DirectoryNotFoundException">The argument looks like a path and no such directory exists.</exception>
    /// <exception cref="ArgumentException">The argument is neither a directory nor a valid model id, or an option is out of range.</exception>
    /// <exception cref="HubException">The model could not be fetched: not found, gated, offline and not cached, a failed or timed-out transfer.</exception>
    public static string ResolveDirectory(string directoryOrModelId, HubClientOptions? options, IProgress<HubDownloadProgress>? progress,
        CancellationToken cancellationToken) =>
        ResolveDirectory(directoryOrModelId, new PretrainedResolveOptions { Hub = options, Progress = progress }, cancellationToken);

    /// <summary>
    /// Returns <paramref name="directoryOrModelId"/> itself (as a full path) when it is an existing directory, else
    /// finds or downloads the model's standard files and returns the snapshot folder holding them. Cancellation and
    /// <see cref="HubClientOptions.OverallTimeout"/> apply to the whole resolution.
    /// </summary>
    /// <param name="directoryOrModelId">A local directory, or a model id such as <c>google-bert/bert-base-uncased</c>.</param>
    /// <param name="options">Revision, Hub settings (token, offline, timeouts) and progress; <c>null</c> for the defaults.</param>
    /// <param name="cancellationToken">Cancels a download; a partial file is kept and resumed next time.</param>
    /// <returns>A directory holding <c>config.json</c>, the weights and the tokenizer files.</returns>
    /// <exception cref="DirectoryNotFoundException">The argument looks like a path and no such directory exists.</exception>
    /// <exception cref="ArgumentException">The argument is neither a directory nor a valid model id, or an option is out of range.</exception>
    /// <exception cref="HubException">The model could not be fetched: not found, gated, offline and not cached, a failed or timed-out transfer.</exception>
    public static async Task<string> ResolveDirectoryAsync(string directoryOrModelId, PretrainedResolveOptions? options = null,
        CancellationToken cancellationToken = default) =>
        TryLocal(directoryOrModelId) ?? await ResolveFromHubAsync(directoryOrModelId, options, cacheFirst: false, cancellationToken).ConfigureAwait(false);

    // The Hub half of both forms: the revision checked, then the model's files taken from the cache without any request
    // (the synchronous form, when they are all there) or found and downloaded.
    private static async Task<string> ResolveFromHubAsync(string modelId, PretrainedResolveOptions? options, bool cacheFirst, CancellationToken cancellationToken)
    {
        options ??= new PretrainedResolveOptions();
        string revision = CheckRevision(options.Revision);
        using var client = new HubClient(options.Hub);
        var selection = new PretrainedSelection();
        if (cacheFirst && client.TryResolveFromCacheOnly(modelId, revision, selection, options.Progress) is string cached)
        {
            return cached;
        }

        return await client.DownloadSelectionAsync(modelId, revision, selection, options.Progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// <see cref="ResolveDirectoryAsync(string, PretrainedResolveOptions?, CancellationToken)"/> with Hub settings — a token
    /// for a private or gated model, say — and progress, at the default revision. (Every parameter is required so that a
    /// call with two or three arguments, <c>new() { ... }</c> included, is never ambiguous: it binds to the other overload.)
    /// </summary>
    /// <param name="directoryOrModelId">A local directory, or a model id such as <c>google-bert/bert-base-uncased</c>.</param>
    /// <param name="options">Hub settings; <c>null</c> reads the environment.</param>
    /// <param name="progress">Receives per-file download progress.</param>
    /// <param name="cancellationToken">Cancels a download; a partial file is kept and resumed next time.</param>
    /// <returns>A directory holding <c>config.json</c>, the weights and the tokenizer files.</returns>
    /// <exception cref="DirectoryNotFoundException">The argument looks like a path and no such directory exists.</exception>
    /// <exception cref="ArgumentException">The argument is neither a directory nor a valid model id, or an option is out of range.</exception>
    /// <exception cref="HubException">The model could not be fetched: not found, gated, offline and not cached, a failed or timed-out transfer.</exception>
    public static Task<string> ResolveDirectoryAsync(string directoryOrModelId, HubClientOptions? options,
        IProgress<HubDownloadProgress>? progress, CancellationToken cancellationToken) =>
        ResolveDirectoryAsync(directoryOrModelId, new PretrainedResolveOptions { Hub = options, Progress = progress }, cancellationToken);

    /// <summary>
    /// Waits for network work on the calling thread without a synchronization context, so that no continuation is posted
    /// to a context whose thread is the one blocked here (the classic sync-over-async deadlock); the caller's context is
    /// restored afterwards. Every await of the client is <c>ConfigureAwait(false)</c> besides.
    /// </summary>
    private static T WaitWithoutContext<T>(Func<Task<T>> start)
    {
        SynchronizationContext? context = SynchronizationContext.Current;
        if (context is null)
        {
            return start().GetAwaiter().GetResult();
        }

        SynchronizationContext.SetSynchronizationContext(null);
        try
        {
            return start().GetAwaiter().GetResult();
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(context);
        }
    }

    private static string CheckRevision(string? revision)
    {
        revision ??= HubNames.DefaultRevision;
        HubNames.ValidateRevision(revision, nameof(revision));
        return revision;
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
