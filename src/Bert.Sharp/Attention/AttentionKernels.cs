namespace Bert.Sharp.Attention;

/// <summary>The attention kernels known by name (the <c>attn_implementation</c> of a <see cref="BertConfig"/>).</summary>
public static class AttentionKernels
{
    private static readonly Dictionary<string, Func<IAttentionKernel>> Registry = new(StringComparer.Ordinal)
    {
        ["eager"] = () => EagerAttentionKernel.Instance,
        ["sdpa"] = () => FusedAttentionKernel.Instance,
        ["chunked"] = () => ChunkedAttentionKernel.Instance,
    };

    /// <summary>The kernel used when a config names none.</summary>
    public const string DefaultName = "sdpa";

    /// <summary>Names that <see cref="Get"/> accepts.</summary>
    public static IReadOnlyCollection<string> Names => Registry.Keys;

    /// <summary>Whether <paramref name="name"/> names a kernel.</summary>
    public static bool IsKnown(string? name) => name is not null && Registry.ContainsKey(name);

    /// <summary>The kernel called <paramref name="name"/> (<c>null</c>: the default).</summary>
    /// <exception cref="ArgumentException">No kernel has that name.</exception>
    public static IAttentionKernel Get(string? name)
    {
        name ??= DefaultName;
        return Registry.TryGetValue(name, out Func<IAttentionKernel>? factory)
            ? factory()
            : throw new ArgumentException($"Attention implementation '{name}' is unknown; use one of {string.Join(", ", Registry.Keys)}.", nameof(name));
    }

    /// <summary>
    /// The checks every kernel's <see cref="IAttentionKernel.Compute"/> starts with: query, key and value given, and
    /// probabilities asked only of a kernel that can return them.
    /// </summary>
    /// <exception cref="NotSupportedException"><paramref name="returnProbabilities"/> and the kernel cannot return them.</exception>
    internal static void CheckArguments(IAttentionKernel kernel, TorchSharp.torch.Tensor query, TorchSharp.torch.Tensor key, TorchSharp.torch.Tensor value, bool returnProbabilities)
    {
        if (returnProbabilities && !kernel.CanReturnProbabilities)
        {
            throw new NotSupportedException($"The '{kernel.Name}' attention never holds the full probabilities; use attn_implementation 'eager' to get them.");
        }

        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
    }
}
