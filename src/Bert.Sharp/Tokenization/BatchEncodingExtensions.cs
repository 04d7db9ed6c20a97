using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>Turns tokenizer output into the tensors a TorchSharp model takes.</summary>
public static class BatchEncodingExtensions
{
    /// <summary>
    /// The batch as int64 tensors [rows, sequence] on <paramref name="device"/> (CPU when null). Needs a
    /// rectangular batch: encode with padding (the default) first.
    /// </summary>
    /// <exception cref="InvalidOperationException">The rows have different lengths.</exception>
    public static BertInputTensors ToTensors(this BatchEncoding encoding, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(encoding);
        if (!encoding.IsRectangular)
        {
            throw new InvalidOperationException(
                "The rows have different lengths, so they cannot form one tensor; encode with PaddingStrategy.Longest or MaxLength.");
        }

        TorchRuntime.EnsureLoaded();
        int rows = encoding.Count;
        int columns = rows == 0 ? 0 : encoding.InputIds[0].Length;
        long[] shape = [rows, columns];
        Tensor ids = tensor(BatchEncoding.Flatten(encoding.InputIds, columns), shape, ScalarType.Int64, device);
        Tensor mask = tensor(BatchEncoding.Flatten(encoding.AttentionMask, columns), shape, ScalarType.Int64, device);
        Tensor types = tensor(BatchEncoding.Flatten(encoding.TokenTypeIds, columns), shape, ScalarType.Int64, device);
        return new BertInputTensors(ids, mask, types);
    }
}
