using Microsoft.Extensions.Logging;

namespace Bert.Sharp;

/// <summary>The log messages of loading a task model (source-generated, allocation-free when disabled).</summary>
internal static partial class ModelLoadLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Warning, Message = "The classification head of '{Directory}' has {Old} outputs; replacing it with a new, untrained head for {New} labels.")]
    public static partial void HeadReplaced(ILogger logger, string directory, int old, int @new);

    [LoggerMessage(EventId = 114, Level = LogLevel.Warning, Message = "'{Directory}' is a {Architecture} checkpoint: its head belongs to another task and is not loaded; a new head is initialised")]
    public static partial void ForeignHeadDropped(ILogger logger, string directory, string architecture);
}
