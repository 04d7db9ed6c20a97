using Microsoft.Extensions.Logging;

namespace Bert.Sharp.Tests.Hub;

/// <summary>Keeps every log entry's formatted message and structured fields, for tests that check what the client decided.</summary>
internal sealed class ListLogger : ILogger
{
    private readonly List<(LogLevel Level, string Message, IReadOnlyDictionary<string, object?> Fields)> _entries = [];

    public IReadOnlyList<(LogLevel Level, string Message, IReadOnlyDictionary<string, object?> Fields)> Entries
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var fields = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
        {
            foreach ((string key, object? value) in pairs)
            {
                fields[key] = value;
            }
        }

        lock (_entries)
        {
            _entries.Add((logLevel, formatter(state, exception), fields));
        }
    }
}
