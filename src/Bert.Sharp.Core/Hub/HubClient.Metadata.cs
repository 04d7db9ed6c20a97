using System.Globalization;
using System.Net.Http.Headers;
using Bert.Sharp.Hub;
using Polly;

namespace Bert.Sharp;

/// <summary>The Hub's metadata: a repository's file list, and each file's commit, content hash and size.</summary>
public sealed partial class HubClient
{
    private Uri ResolveUrl(string repoId, string revision, string fileName) =>
        new($"{_settings.Endpoint.AbsoluteUri.TrimEnd('/')}/{repoId}/resolve/{Uri.EscapeDataString(revision)}/{HubNames.EscapePath(fileName)}");

    /// <summary><c>GET /api/models/{id}/revision/{revision}</c>: the commit and the files, read within <see cref="HubClientOptions.MaxMetadataBytes"/>.</summary>
    private Task<RepositoryListing> GetModelInfoAsync(HubCallScope scope, ResiliencePipeline pipeline, string revision)
    {
        string repoId = scope.RepoId;
        var url = new Uri($"{_settings.Endpoint.AbsoluteUri.TrimEnd('/')}/api/models/{repoId}/revision/{Uri.EscapeDataString(revision)}");
        return HubResilience.ExecuteAsync(pipeline, repoId, null, token => AttemptAsync(scope, url, async () =>
        {
            using HttpResponseMessage response = await SendAsync(scope, HttpMethod.Get, url, followAbsoluteRedirects: false, null, token)
                .ConfigureAwait(false);
            Uri finalUrl = response.RequestMessage?.RequestUri ?? url;
            ThrowIfTransientStatus(response, finalUrl);
            if (!response.IsSuccessStatusCode)
            {
                throw MapError(response, repoId, null, finalUrl, revision);
            }

            using MemoryStream json = await BoundedContent.ReadAsync(response, _options.MaxMetadataBytes, repoId, finalUrl, token).ConfigureAwait(false);
            return RepositoryListing.Parse(json, repoId, finalUrl, response.StatusCode, _logger);
        }), scope.Token);
    }

    /// <summary><c>HEAD /{id}/resolve/{revision}/{file}</c>: commit, ETag (content hash) and size, before any redirect to the CDN.</summary>
    private Task<FileMetadata> HeadAsync(HubCallScope scope, ResiliencePipeline pipeline, string revision, string fileName)
    {
        string repoId = scope.RepoId;
        Uri url = ResolveUrl(repoId, revision, fileName);
        return HubResilience.ExecuteAsync(pipeline, repoId, fileName, token => AttemptAsync(scope, url, async () =>
        {
            using HttpResponseMessage response = await SendAsync(scope, HttpMethod.Head, url, followAbsoluteRedirects: false, null, token)
                .ConfigureAwait(false);
            Uri finalUrl = response.RequestMessage?.RequestUri ?? url;
            ThrowIfTransientStatus(response, finalUrl);
            int status = (int)response.StatusCode;
            if (!response.IsSuccessStatusCode && status is < 300 or >= 400)
            {
                throw MapError(response, repoId, fileName, finalUrl, revision);
            }

            return ReadFileMetadata(response, repoId, fileName, finalUrl);
        }), scope.Token);
    }

    private static FileMetadata ReadFileMetadata(HttpResponseMessage response, string repoId, string fileName, Uri url)
    {
        string? commit = Header(response, "X-Repo-Commit");
        string? etag = Header(response, "X-Linked-Etag") ?? Header(response, "ETag");
        string? sizeText = Header(response, "X-Linked-Size") ?? Header(response, "Content-Length");

        HubException Fail(string what) => new(HubErrorKind.Protocol,
            $"The Hub's answer for '{fileName}' of '{repoId}' at {url} (HTTP {(int)response.StatusCode}) {what}; is HF_ENDPOINT a Hugging Face Hub?",
            repoId, fileName, url, response.StatusCode);

        if (commit is null || !HubNames.IsCommitHash(commit))
        {
            throw Fail($"has no valid X-Repo-Commit header ('{commit}')");
        }

        etag = etag is null ? null : HubNames.NormalizeEtag(etag);
        if (etag is null || !HubNames.IsSafeEtag(etag))
        {
            throw Fail($"has no usable ETag ('{etag}')");
        }

        if (!long.TryParse(sizeText, NumberStyles.None, CultureInfo.InvariantCulture, out long size))
        {
            throw Fail($"does not announce a valid file size ('{sizeText}')");
        }

        return new FileMetadata(commit, etag, size, url);
    }

    private static string? Header(HttpResponseMessage response, string name)
    {
        if (response.Headers.NonValidated.TryGetValues(name, out HeaderStringValues values) ||
            response.Content.Headers.NonValidated.TryGetValues(name, out values))
        {
            foreach (string value in values)
            {
                return value.Trim();
            }
        }

        return null;
    }

    private HubException MapError(HttpResponseMessage response, string repoId, string? fileName, Uri url, string? revision = null)
    {
        string? code = Header(response, "X-Error-Code");
        string? serverMessage = Header(response, "X-Error-Message");
        int status = (int)response.StatusCode;
        string context = $"(HTTP {status}{(code is null ? "" : " " + code)} at {url}{(serverMessage is null ? "" : ": " + serverMessage)})";
        string file = fileName is null ? "" : $"'{fileName}' of ";
        string tokenHint = _settings.Token is null
            ? "If it is private, log in: set HF_TOKEN (or HubClientOptions.Token) to an access token"
            : "The token that was sent has no access to it: check it is valid and has read permission";

        (HubErrorKind kind, string message) = (code, status) switch
        {
            ("GatedRepo", _) or (null, 403) => (HubErrorKind.GatedRepository,
                $"'{repoId}' is a gated model {context}. Accept its conditions at {_settings.Endpoint.AbsoluteUri.TrimEnd('/')}/{repoId} while logged in, " +
                $"then pass a token of that account: set HF_TOKEN or HubClientOptions.Token." +
                (_settings.Token is null ? " No token was sent." : " The token that was sent is not (yet) granted access.")),
            ("RepoNotFound", _) or (null, 401) => (HubErrorKind.RepositoryNotFound,
                $"Model '{repoId}' was not found on the Hub {context}. Check the id (organization/name). {tokenHint}."),
            ("RevisionNotFound", _) => (HubErrorKind.RevisionNotFound,
                $"Revision '{revision}' of '{repoId}' was not found {context}. Check the branch, tag or commit."),
            ("EntryNotFound", _) => (HubErrorKind.EntryNotFound,
                $"File {file}'{repoId}' was not found at revision '{revision}' {context}."),
            (null, 404) => fileName is null
                ? (HubErrorKind.RepositoryNotFound, $"Model '{repoId}' was not found on the Hub {context}. Check the id. {tokenHint}.")
                : (HubErrorKind.EntryNotFound, $"File {file}'{repoId}' was not found at revision '{revision}' {context}."),
            _ => (HubErrorKind.Other, $"The Hub refused {file}'{repoId}' {context}."),
        };
        return new HubException(kind, message, repoId, fileName, url, response.StatusCode);
    }

    /// <summary>What a HEAD on <c>resolve/{revision}/{file}</c> tells: commit, content hash (ETag) and size.</summary>
    private sealed record FileMetadata(string Commit, string Etag, long Size, Uri Url);
}
