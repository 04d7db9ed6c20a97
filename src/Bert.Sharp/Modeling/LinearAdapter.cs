using static TorchSharp.torch;

namespace Bert.Sharp.Modeling;

/// <summary>
/// Something that adds a learned term to a <see cref="BertLinear"/>'s output without changing its base weight (LoRA is one).
/// </summary>
internal abstract class LinearAdapter
{
    /// <summary>The term added to the layer's output for <paramref name="input"/>, [..., out]; <c>null</c> when the adapter adds nothing now (none active).</summary>
    public abstract Tensor? Delta(Tensor input);

    /// <summary>Registers the adapter's modules as children of <paramref name="layer"/>.</summary>
    public abstract void RegisterOn(BertLinear layer);

    /// <summary>Removes what <see cref="RegisterOn"/> registered.</summary>
    public abstract void UnregisterFrom(BertLinear layer);
}
