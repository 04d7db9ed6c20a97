namespace Bert.Sharp.Hub;

/// <summary>The body of every <c>FromPretrainedAsync</c>: download asynchronously, then load the local folder.</summary>
internal static class PretrainedLoading
{
    /// <summary>
    /// Resolves <paramref name="directoryOrModelId"/> without blocking (a Hub id is fetched into the shared cache), then
    /// runs the synchronous <paramref name="load"/> on the local folder.
    /// </summary>
    public static async Task<T> ResolveThenLoadAsync<T>(string directoryOrModelId, PretrainedResolveOptions? hub, Func<string, T> load,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directoryOrModelId);
        string resolved = await PretrainedResolver.ResolveDirectoryAsync(directoryOrModelId, hub, cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return load(resolved);
    }
}
