namespace Bert.Sharp.Checkpoints;

/// <summary>A Python dict or OrderedDict read from a pickle, in insertion order.</summary>
internal sealed class PickleDict
{
    public List<KeyValuePair<object?, object?>> Items { get; } = [];

    public void Set(object? key, object? value)
    {
        int index = Items.FindIndex(item => Equals(item.Key, key));
        if (index >= 0)
        {
            Items[index] = new(key, value);
        }
        else
        {
            Items.Add(new(key, value));
        }
    }
}
