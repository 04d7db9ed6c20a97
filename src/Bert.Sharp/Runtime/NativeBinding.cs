namespace Bert.Sharp.Runtime;

/// <summary>
/// Functions found in a native library on first use, with a status that says why not when they were not: the shape of
/// every binding Bert.Sharp makes to LibTorch's own exports (autocast, MKL).
/// </summary>
/// <typeparam name="T">The resolved functions.</typeparam>
internal sealed class NativeBinding<T>
    where T : class
{
    private readonly Lazy<T?> resolved;
    private string status = "not resolved yet";

    /// <summary>Binds lazily with <paramref name="resolve"/>, which returns the functions (or null) and the status to report.</summary>
    public NativeBinding(Func<(T? Functions, string Status)> resolve)
    {
        ArgumentNullException.ThrowIfNull(resolve);
        resolved = new Lazy<T?>(
            () =>
            {
                (T? functions, string said) = resolve();
                status = said;
                return functions;
            },
            LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The functions, or null when they could not be bound (see <see cref="Status"/>).</summary>
    public T? Functions => resolved.Value;

    /// <summary>Whether the functions were bound.</summary>
    public bool IsAvailable => resolved.Value is not null;

    /// <summary>"available", or why not.</summary>
    public string Status
    {
        get
        {
            _ = resolved.Value;
            return status;
        }
    }

    /// <summary>The functions, or an <see cref="InvalidOperationException"/> that names <paramref name="what"/> and the status.</summary>
    public T Require(string what) => resolved.Value ?? throw new InvalidOperationException($"{what} is not available: {Status}");
}
