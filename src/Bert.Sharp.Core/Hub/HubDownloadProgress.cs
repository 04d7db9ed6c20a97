namespace Bert.Sharp;

/// <summary>
/// Progress of one file being fetched from the Hugging Face Hub, reported through
/// <see cref="IProgress{T}"/>. A file served from the cache is reported once, already complete.
/// </summary>
/// <param name="FileName">The file's path inside the repository, e.g. <c>model.safetensors</c>.</param>
/// <param name="BytesDownloaded">Bytes of the file present so far (a resumed download starts above zero).</param>
/// <param name="TotalBytes">The file's size as announced by the Hub, or <c>null</c> when unknown.</param>
public sealed record HubDownloadProgress(string FileName, long BytesDownloaded, long? TotalBytes)
{
    /// <summary>True once every byte of the file is present.</summary>
    public bool IsComplete => TotalBytes is long total && BytesDownloaded >= total;
}

/// <summary>The files of a Hub repository at one commit, as listed by <see cref="HubClient.ListFilesAsync"/>.</summary>
/// <param name="RepoId">The repository id asked for.</param>
/// <param name="Commit">The 40-character commit sha the revision pointed to.</param>
/// <param name="Files">Paths of the files inside the repository, with '/' separators.</param>
public sealed record HubRepositoryFiles(string RepoId, string Commit, IReadOnlyList<string> Files);
