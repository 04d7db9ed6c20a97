using Microsoft.Extensions.Logging;

namespace Bert.Sharp.Checkpoints;

/// <summary>Log messages of checkpoint loading (source-generated).</summary>
internal static partial class CheckpointLog
{
    [LoggerMessage(EventId = 10, Level = LogLevel.Debug, Message = "Loading the model in '{Directory}'")]
    public static partial void Loading(ILogger logger, string directory);

    [LoggerMessage(EventId = 13, Level = LogLevel.Warning, Message = "MKL runs its generic kernels on this AMD processor: {Status}")]
    public static partial void MklGenericKernels(ILogger logger, string status);
}
