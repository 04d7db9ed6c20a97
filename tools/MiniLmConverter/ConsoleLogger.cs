using Microsoft.Extensions.Logging;

namespace Bert.Sharp.Tools.MiniLmConverter;

/// <summary>Prints the importer's messages into the build log (warnings in MSBuild's canonical format).</summary>
internal sealed class ConsoleLogger : ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }

        string message = formatter(state, exception);
        Console.WriteLine(logLevel >= LogLevel.Warning ? $"MiniLmConverter : warning BSMC{eventId.Id:D3}: {message}" : $"  {message}");
    }
}
