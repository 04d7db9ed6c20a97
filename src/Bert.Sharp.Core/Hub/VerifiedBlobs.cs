using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Bert.Sharp.Hub;

/// <summary>
/// What this library verified about a blob when it cached it: size, last-write time and how it was checked, in
/// <c>{cache}/models--org--name/.bert-sharp/verified/{etag}</c>. A cache hit compares the blob's size and time with the
/// record (two <c>stat</c> fields, no read): equal means verified and untouched since; different means it changed and is
/// re-hashed. A blob without a record was written by someone else (Python) and is trusted or re-hashed as
/// <see cref="HubClientOptions.VerifyCachedFiles"/> says. The folder is ignored by huggingface_hub (its cache scan looks
/// at <c>snapshots</c> and <c>refs</c> only) and goes away with the repository when Python deletes it.
/// </summary>
internal sealed class VerifiedBlobs(ILogger logger)
{
    public const string FolderName = ".bert-sharp";

    /// <summary>How a blob's content was checked.</summary>
    public static string MethodFor(string etag) =>
        HubNames.IsSha256(etag) ? "sha256" : HubNames.IsSha1(etag) ? "git-sha1" : "size";

    public static string RecordPath(string repoFolder, string etag) => Path.Combine(repoFolder, FolderName, "verified", etag);

    /// <summary>The record of a blob, or <c>null</c> when there is none (or it is unreadable).</summary>
    public static Record? TryRead(string recordPath)
    {
        try
        {
            if (!File.Exists(recordPath))
            {
                return null;
            }

            string[] parts = File.ReadAllText(recordPath).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            return parts.Length == 4 && parts[0] == "v1" &&
                long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long size) &&
                long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out long ticks)
                ? new Record(size, ticks, parts[3])
                : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Records that <paramref name="blobPath"/>, as it is now on disk, was verified. Best effort: a read-only cache just stays unrecorded.</summary>
    public void Write(string recordPath, string blobPath, string etag)
    {
        string temp = HubCache.TempNameNextTo(recordPath);
        try
        {
            var blob = new FileInfo(blobPath);
            string text = string.Create(CultureInfo.InvariantCulture, $"v1 {blob.Length} {blob.LastWriteTimeUtc.Ticks} {MethodFor(etag)}\n");
            Directory.CreateDirectory(Path.GetDirectoryName(recordPath)!);
            File.WriteAllText(temp, text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            File.Move(temp, recordPath, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            HubLog.CannotRecordVerification(logger, blobPath, e.Message);
        }
        finally
        {
            HubCache.TryDelete(temp);
        }
    }

    /// <summary>One blob's record.</summary>
    public sealed record Record(long Size, long LastWriteTicks, string Method)
    {
        /// <summary>True when the blob on disk still has the size and last-write time it had when verified.</summary>
        public bool Matches(FileInfo blob) => blob.Length == Size && blob.LastWriteTimeUtc.Ticks == LastWriteTicks;
    }
}
