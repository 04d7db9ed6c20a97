using static TorchSharp.torch;

namespace Bert.Sharp.Checkpoints;

/// <summary>Reads PyTorch <c>pytorch_model.bin</c> state dicts (placeholder; the restricted unpickler follows).</summary>
internal static class TorchPickleCheckpoint
{
    public static Dictionary<string, Tensor> Load(string path) =>
        throw new NotSupportedException($"Reading '{path}' (PyTorch pickle) is not supported yet; convert it to model.safetensors.");
}
