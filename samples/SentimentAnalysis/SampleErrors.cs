using Bert.Sharp;

namespace SentimentAnalysis;

/// <summary>Errors caused by what the user gave (files, columns, options, model ids), reported as one line.</summary>
internal static class SampleErrors
{
    public static bool IsUserError(Exception e) => e is FileNotFoundException or DirectoryNotFoundException or InvalidDataException
        or ArgumentException or UnauthorizedAccessException or HubException or IOException or InvalidOperationException;
}
