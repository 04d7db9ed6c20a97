using Microsoft.Extensions.Logging;

namespace Bert.Sharp.Hosting;

/// <summary>Log messages of the hosting package (one line each, structured fields).</summary>
internal static partial class HostingLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Loaded {Kind} {Name} ({Type}) from '{ModelDirectory}' in {ElapsedMs:F0} ms; {Details}")]
    public static partial void Loaded(ILogger logger, string kind, string name, string type, string? modelDirectory, double elapsedMs, string details);
}
