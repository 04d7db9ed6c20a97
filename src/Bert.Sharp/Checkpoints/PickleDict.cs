namespace Bert.Sharp.Checkpoints;

/// <summary>
/// A Python dict or OrderedDict read from a pickle, in insertion order. Inserts are O(1) (a hash index beside the ordered
/// list; a state dict of 400,000 keys once took minutes with linear scans), and a key can be set only once: Python's
/// pickler never writes a key twice, so a repeated key means a crafted file.
/// </summary>
internal sealed class PickleDict
{
    private static readonly object NoneKey = new();

    private readonly List<KeyValuePair<object?, object?>> items = [];

    // Created on the first insert, so the many empty dicts of a hostile pickle cost little memory.
    private Dictionary<object, int>? index;

    /// <summary>The entries in insertion order.</summary>
    public IReadOnlyList<KeyValuePair<object?, object?>> Items => items;

    /// <summary>Number of entries.</summary>
    public int Count => items.Count;

    /// <summary>Adds an entry; returns <c>false</c> (and changes nothing) when <paramref name="key"/> is already there.</summary>
    public bool TryAdd(object? key, object? value)
    {
        index ??= [];
        if (!index.TryAdd(key ?? NoneKey, items.Count))
        {
            return false;
        }

        items.Add(new(key, value));
        return true;
    }
}
