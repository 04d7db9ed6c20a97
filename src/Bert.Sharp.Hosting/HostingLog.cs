using Microsoft.Extensions.Logging;

namespace Bert.Sharp.Hosting;

/// <summary>Log messages of the hosting package (one line each, structured fields).</summary>
internal static partial class HostingLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Loaded text classifier {Name} ({Type}) from '{ModelDirectory}' in {ElapsedMs:F0} ms; labels: {Labels}")]
    public static partial void Loaded(ILogger logger, string name, string type, string? modelDirectory, double elapsedMs, string labels);
}
