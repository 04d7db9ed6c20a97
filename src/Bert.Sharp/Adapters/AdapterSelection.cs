namespace Bert.Sharp.Adapters;

/// <summary>
/// Chooses the adapter for the forward passes of the current thread (a serving call's own choice), without touching the
/// model's active adapter, so calls on other threads that choose other adapters run at the same time safely.
/// </summary>
internal static class AdapterSelection
{
    [ThreadStatic]
    private static Scope? current;

    /// <summary>Whether a call chose an adapter (<paramref name="name"/>; <c>null</c> for the base model).</summary>
    public static bool TryGetOverride(out string? name)
    {
        name = current?.Name;
        return current is not null;
    }

    /// <summary>Runs the forward passes on this thread with adapter <paramref name="name"/> until the scope is disposed.</summary>
    public static Scope Use(string? name) => new(name);

    internal sealed class Scope : IDisposable
    {
        private readonly Scope? previous;

        public Scope(string? name)
        {
            Name = name;
            previous = current;
            current = this;
        }

        public string? Name { get; }

        public void Dispose() => current = previous;
    }
}
