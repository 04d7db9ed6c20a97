using Microsoft.Extensions.Logging;

namespace Bert.Sharp.Tests.Checkpoints;

/// <summary>Collects formatted log messages at <paramref name="minimum"/> (default Warning) and above.</summary>
internal sealed class ListLoggerProvider(LogLevel minimum = LogLevel.Warning) : ILoggerProvider
{
    private readonly List<string> messages = [];
    private readonly LogLevel minimum = minimum;

    public IReadOnlyList<string> Messages
    {
        get
        {
            lock (messages)
            {
                return messages.ToList();
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(ListLoggerProvider owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= owner.minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                lock (owner.messages)
                {
                    owner.messages.Add(formatter(state, exception));
                }
            }
        }
    }
}
