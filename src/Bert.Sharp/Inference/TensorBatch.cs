using static TorchSharp.torch;

namespace Bert.Sharp.Inference;

/// <summary>Collation with dynamic padding for the TorchSharp models: a <see cref="PaddedBatch"/> as tensors on the model's device.</summary>
internal static class TensorBatch
{
    /// <summary>Pads <paramref name="indices"/>' rows to the longest among them and builds tensors on <paramref name="device"/> (in the current dispose scope).</summary>
    public static (Tensor InputIds, Tensor AttentionMask, Tensor TokenTypeIds) Collate(IReadOnlyList<EncodedText> rows, int[] indices, int padId, Device device)
    {
        PaddedBatch batch = PaddedBatch.Create(rows, indices, padId);
        long[] shape = [batch.Size, batch.Length];
        return (
            Runtime.HostToDevice.Copy(tensor(batch.InputIds, shape), device),
            Runtime.HostToDevice.Copy(tensor(batch.AttentionMask, shape), device),
            Runtime.HostToDevice.Copy(tensor(batch.TokenTypeIds, shape), device));
    }
}
