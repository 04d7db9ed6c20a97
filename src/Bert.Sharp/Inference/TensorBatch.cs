using static TorchSharp.torch;

namespace Bert.Sharp.Inference;

/// <summary>Collation with dynamic padding for the TorchSharp models: a <see cref="PaddedBatch"/> as tensors on the model's device.</summary>
internal static class TensorBatch
{
    /// <summary>Pads <paramref name="indices"/>' rows to the longest among them and builds tensors on <paramref name="device"/> (in the current dispose scope).</summary>
    public static (Tensor InputIds, Tensor AttentionMask, Tensor TokenTypeIds) Collate(IReadOnlyList<EncodedText> rows, int[] indices, int padId, Device device)
    {
        (Tensor ids, Tensor? mask, Tensor types) = Build(rows, indices, padId, device, maskWhenFull: true);
        return (ids, mask!, types);
    }

    /// <summary>
    /// <see cref="Collate"/> for serving: no mask when no row is padded (one text, or texts of one length), which the model
    /// reads as "nothing padded" — the same attention — without building, checking and summing a mask of ones. Mean and
    /// max pooling then take their unmasked form (the same values). Training keeps <see cref="Collate"/>'s mask.
    /// </summary>
    public static (Tensor InputIds, Tensor? AttentionMask, Tensor TokenTypeIds) CollateForServing(IReadOnlyList<EncodedText> rows, int[] indices, int padId, Device device) =>
        Build(rows, indices, padId, device, maskWhenFull: false);

    private static (Tensor InputIds, Tensor? AttentionMask, Tensor TokenTypeIds) Build(IReadOnlyList<EncodedText> rows, int[] indices, int padId, Device device, bool maskWhenFull)
    {
        PaddedBatch batch = PaddedBatch.Create(rows, indices, padId);
        long[] shape = [batch.Size, batch.Length];
        return (
            Runtime.HostToDevice.Copy(tensor(batch.InputIds, shape), device),
            maskWhenFull || batch.IsPadded ? Runtime.HostToDevice.Copy(tensor(batch.AttentionMask, shape), device) : null,
            Runtime.HostToDevice.Copy(tensor(batch.TokenTypeIds, shape), device));
    }
}
