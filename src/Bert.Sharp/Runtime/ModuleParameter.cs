using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bert.Sharp.Runtime;

/// <summary>
/// Parameters created by this library's modules. A tensor made while a <c>torch.NewDisposeScope()</c> is open belongs to
/// that scope, so a module built or loaded inside the caller's scope would lose its weights when the scope ends (the next
/// forward fails on an empty handle). The module owns its parameters and disposes them with itself, so they are taken out
/// of every scope, as TorchSharp's own modules do with theirs.
/// </summary>
internal static class ModuleParameter
{
    /// <summary>A trainable parameter holding <paramref name="initial"/>, owned by the module that creates it.</summary>
    public static Parameter Create(Tensor initial)
    {
        var parameter = new Parameter(initial);
        parameter.DetachFromDisposeScope();
        return parameter;
    }
}
