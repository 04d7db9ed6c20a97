using System.Buffers;
using System.Net;

namespace Bert.Sharp.Hub;

/// <summary>
/// Reads a metadata answer into memory, refusing it as soon as it passes a size limit — whether the server announced
/// a Content-Length, sent it chunked, or just kept the connection open — so a hostile or broken endpoint cannot make
/// the client buffer gigabytes.
/// </summary>
internal static class BoundedContent
{
    public static async Task<MemoryStream> ReadAsync(HttpResponseMessage response, long limit, string repoId, Uri url, CancellationToken ct)
    {
        if (response.Content.Headers.ContentLength is long announced && announced > limit)
        {
            throw TooLarge(repoId, url, limit, response.StatusCode, $"it announces {announced:N0} bytes");
        }

        var buffer = new MemoryStream();
        byte[] chunk = ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            Stream body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                int read;
                while ((read = await body.ReadAsync(chunk, ct).ConfigureAwait(false)) > 0)
                {
                    if (buffer.Length + read > limit)
                    {
                        throw TooLarge(repoId, url, limit, response.StatusCode, "it goes on past that");
                    }

                    buffer.Write(chunk, 0, read);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        buffer.Position = 0;
        return buffer;
    }

    private static HubException TooLarge(string repoId, Uri url, long limit, HttpStatusCode status, string how) =>
        new(HubErrorKind.Protocol,
            $"The Hub's metadata for '{repoId}' at {url} is larger than the {limit:N0}-byte limit (HubClientOptions.MaxMetadataBytes): " +
            $"{how}. Refused without reading the rest; is HF_ENDPOINT a Hugging Face Hub?",
            repoId, null, url, status);
}
