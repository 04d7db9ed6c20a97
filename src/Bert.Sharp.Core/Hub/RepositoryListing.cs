using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Bert.Sharp.Hub;

/// <summary>
/// A repository's file list at one commit, parsed from the Hub's <c>/api/models/{id}/revision/{revision}</c> answer.
/// Unsafe names are left out (and logged); duplicates are dropped; a list holding both a file <c>x</c> and a file
/// <c>x/y</c> — which no snapshot folder can hold — is refused before anything is written.
/// </summary>
internal sealed record RepositoryListing(string Commit, IReadOnlyList<string> Files)
{
    public static RepositoryListing Parse(MemoryStream json, string repoId, Uri url, HttpStatusCode status, ILogger logger)
    {
        HubException Bad(string what, Exception? inner = null) => new(HubErrorKind.Protocol,
            $"The Hub's metadata for '{repoId}' at {url} {what}; is HF_ENDPOINT a Hugging Face Hub?", repoId, null, url, status, inner);

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json.GetBuffer().AsMemory(0, (int)json.Length));
        }
        catch (JsonException e)
        {
            throw Bad($"is not valid JSON ({e.Message})", e);
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Bad($"is a JSON {root.ValueKind}, not an object");
            }

            string? commit = root.TryGetProperty("sha", out JsonElement sha) && sha.ValueKind == JsonValueKind.String ? sha.GetString() : null;
            if (commit is null || !HubNames.IsCommitHash(commit))
            {
                throw Bad($"has no valid commit hash ('sha': '{commit}')");
            }

            var files = new List<string>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            if (root.TryGetProperty("siblings", out JsonElement siblings) && siblings.ValueKind == JsonValueKind.Array)
            {
                foreach (JsonElement sibling in siblings.EnumerateArray())
                {
                    if (sibling.ValueKind != JsonValueKind.Object || !sibling.TryGetProperty("rfilename", out JsonElement name) ||
                        name.ValueKind != JsonValueKind.String || name.GetString() is not string fileName)
                    {
                        continue;
                    }

                    if (HubNames.CheckFileName(fileName) is string problem)
                    {
                        HubLog.SkippingUnsafeName(logger, repoId, fileName, problem);
                    }
                    else if (seen.Add(fileName))
                    {
                        files.Add(fileName);
                    }
                }
            }

            if (FindConflict(files) is (string file, string folderFile))
            {
                throw new HubException(HubErrorKind.Protocol,
                    $"The Hub's file list for '{repoId}' at {url} has both a file '{file}' and a file '{folderFile}' inside a folder of that " +
                    "name; one folder cannot hold both, so nothing was downloaded. The repository or the server's answer is inconsistent.",
                    repoId, file, url, status);
            }

            return new RepositoryListing(commit, files);
        }
    }

    /// <summary>
    /// A file that is also a folder of another file (<c>x</c> and <c>x/y</c>), or two names for one file on a
    /// case-insensitive file system (Windows, macOS); <c>null</c> when there is none.
    /// </summary>
    private static (string File, string Other)? FindConflict(IReadOnlyList<string> files)
    {
        StringComparer comparer = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;
        var byName = new Dictionary<string, string>(comparer);
        foreach (string file in files)
        {
            if (!byName.TryAdd(file, file))
            {
                return (byName[file], file);
            }
        }

        foreach (string file in files)
        {
            for (int slash = file.IndexOf('/', StringComparison.Ordinal); slash > 0; slash = file.IndexOf('/', slash + 1))
            {
                if (byName.TryGetValue(file[..slash], out string? folderAsFile))
                {
                    return (folderAsFile, file);
                }
            }
        }

        return null;
    }
}
