using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace SentimentAnalysis;

/// <summary>Shows the library's warnings and errors (e.g. newly initialised head weights) above the progress bar.</summary>
internal sealed class ConsoleLoggerProvider(LogLevel minimum) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new ConsoleLogger(minimum);

    public void Dispose()
    {
    }

    private sealed class ConsoleLogger(LogLevel minimum) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            string colour = logLevel >= LogLevel.Error ? "red" : logLevel == LogLevel.Warning ? "yellow" : "grey";
            AnsiConsole.MarkupLineInterpolated($"[{colour}]{logLevel.ToString().ToLowerInvariant()}:[/] [grey]{formatter(state, exception)}[/]");
        }
    }
}
