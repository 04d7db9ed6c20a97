using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Modeling;

/// <summary>
/// Checks model inputs before they reach native code, where an id past the embedding table is an opaque
/// index error (or, on CUDA, a device assert that kills the context).
/// </summary>
internal static class BertInputValidator
{
    public static void Validate(BertConfig config, Tensor inputIds, Tensor? attentionMask, Tensor? tokenTypeIds, Tensor? positionIds)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        if (inputIds.dim() != 2)
        {
            throw new ArgumentException($"input ids must be [batch, sequence]; got shape [{string.Join(", ", inputIds.shape)}].", nameof(inputIds));
        }

        RequireIndexType(inputIds, "input ids", nameof(inputIds));
        long batch = inputIds.shape[0];
        long seq = inputIds.shape[1];
        if (seq == 0)
        {
            throw new ArgumentException($"input ids must hold at least one token per sequence; got shape [{string.Join(", ", inputIds.shape)}] (even an empty text encodes as [CLS] [SEP]).", nameof(inputIds));
        }

        if (seq > config.MaxSequenceLength)
        {
            if (config.MaxSequenceLength != config.MaxPositionEmbeddings)
            {
                throw new ArgumentException($"The sequence has {seq} tokens but the model holds at most {config.MaxSequenceLength} (max_position_embeddings {config.MaxPositionEmbeddings} less pad_token_id + 1, as {config.ModelType} numbers positions); truncate the input.", nameof(inputIds));
            }

            throw new ArgumentException($"The sequence has {seq} tokens but the model's max_position_embeddings is {config.MaxPositionEmbeddings}; truncate the input (the tokenizer does so by default).", nameof(inputIds));
        }

        if (batch > 0 && seq > 0)
        {
            RequireRange(inputIds, config.VocabSize, "input ids", "vocab_size", nameof(inputIds));
        }

        if (attentionMask is not null)
        {
            RequireShape(attentionMask, inputIds, "attention mask", nameof(attentionMask));
            if (attentionMask.dtype is not (ScalarType.Bool or ScalarType.Int64 or ScalarType.Int32 or ScalarType.Int16 or ScalarType.Int8 or ScalarType.Byte
                or ScalarType.Float32 or ScalarType.Float64 or ScalarType.Float16 or ScalarType.BFloat16))
            {
                throw new ArgumentException($"The attention mask must be a boolean, integer or floating-point tensor of 1s and 0s; got {attentionMask.dtype}.", nameof(attentionMask));
            }
        }

        if (tokenTypeIds is not null && config.Family.HasTokenTypes)
        {
            RequireShape(tokenTypeIds, inputIds, "token type ids", nameof(tokenTypeIds));
            RequireIndexType(tokenTypeIds, "token type ids", nameof(tokenTypeIds));
            if (batch > 0)
            {
                RequireRange(tokenTypeIds, config.TypeVocabSize, "token type ids", "type_vocab_size", nameof(tokenTypeIds));
            }
        }

        if (positionIds is not null)
        {
            if (positionIds.dim() != 2 || positionIds.shape[1] != seq || (positionIds.shape[0] != batch && positionIds.shape[0] != 1))
            {
                throw new ArgumentException($"position ids must be [batch or 1, {seq}]; got [{string.Join(", ", positionIds.shape)}].", nameof(positionIds));
            }

            RequireIndexType(positionIds, "position ids", nameof(positionIds));
            if (positionIds.shape[0] > 0)
            {
                RequireRange(positionIds, config.MaxPositionEmbeddings, "position ids", "max_position_embeddings", nameof(positionIds));
            }
        }
    }

    private static void RequireShape(Tensor tensor, Tensor inputIds, string what, string parameter)
    {
        if (!tensor.shape.SequenceEqual(inputIds.shape))
        {
            throw new ArgumentException($"The {what} has shape [{string.Join(", ", tensor.shape)}] but the input ids have [{string.Join(", ", inputIds.shape)}].", parameter);
        }
    }

    // Embedding lookups take int64 or int32 indices; narrower types fail in native code.
    private static void RequireIndexType(Tensor tensor, string what, string parameter)
    {
        if (tensor.dtype is not (ScalarType.Int64 or ScalarType.Int32))
        {
            throw new ArgumentException($"The {what} must be an int64 (preferred) or int32 tensor; got {tensor.dtype}.", parameter);
        }
    }

    private static void RequireRange(Tensor tensor, long high, string what, string configKey, string parameter)
    {
        (long min, long max) = Bounds(tensor);
        if (min < 0 || max >= high)
        {
            long bad = min < 0 ? min : max;
            throw new ArgumentException($"The {what} contain {bad}, outside [0, {high}) set by {configKey}={high}.", parameter);
        }
    }

    // The smallest and largest value. A CPU tensor is read where it lies: for the few ids of one text, dispatching
    // min, max and stack cost more than the forward's smaller operators. A device tensor is reduced there, with one host
    // read (one device synchronisation on CUDA) for both bounds.
    private static (long Min, long Max) Bounds(Tensor tensor)
    {
        if (tensor.device_type == DeviceType.CPU && tensor.is_contiguous())
        {
            if (tensor.dtype == ScalarType.Int64)
            {
                long[] values = Runtime.HostRead.Values<long>(tensor);
                return (values.Min(), values.Max());
            }

            int[] narrow = Runtime.HostRead.Values<int>(tensor);
            return (narrow.Min(), narrow.Max());
        }

        using var scope = NewDisposeScope();
        Tensor wide = tensor.dtype == ScalarType.Int64 ? tensor : tensor.to_type(ScalarType.Int64);
        long[] bounds = Runtime.HostRead.Values<long>(stack([wide.min(), wide.max()]));
        return (bounds[0], bounds[1]);
    }
}
