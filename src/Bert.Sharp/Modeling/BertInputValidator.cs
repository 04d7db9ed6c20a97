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

        RequireIntegral(inputIds, "input ids");
        long batch = inputIds.shape[0];
        long seq = inputIds.shape[1];
        if (seq > config.MaxPositionEmbeddings)
        {
            throw new ArgumentException($"The sequence has {seq} tokens but the model's max_position_embeddings is {config.MaxPositionEmbeddings}; truncate the input (the tokenizer does so by default).", nameof(inputIds));
        }

        if (batch > 0 && seq > 0)
        {
            RequireRange(inputIds, 0, config.VocabSize, "input ids", "vocab_size");
        }

        if (attentionMask is not null)
        {
            RequireShape(attentionMask, inputIds, "attention mask");
        }

        if (tokenTypeIds is not null)
        {
            RequireShape(tokenTypeIds, inputIds, "token type ids");
            RequireIntegral(tokenTypeIds, "token type ids");
            if (batch > 0 && seq > 0)
            {
                RequireRange(tokenTypeIds, 0, config.TypeVocabSize, "token type ids", "type_vocab_size");
            }
        }

        if (positionIds is not null)
        {
            if (positionIds.dim() != 2 || positionIds.shape[1] != seq || (positionIds.shape[0] != batch && positionIds.shape[0] != 1))
            {
                throw new ArgumentException($"position ids must be [batch or 1, {seq}]; got [{string.Join(", ", positionIds.shape)}].", nameof(positionIds));
            }

            RequireIntegral(positionIds, "position ids");
            if (seq > 0)
            {
                RequireRange(positionIds, 0, config.MaxPositionEmbeddings, "position ids", "max_position_embeddings");
            }
        }
    }

    private static void RequireShape(Tensor tensor, Tensor inputIds, string what)
    {
        if (!tensor.shape.SequenceEqual(inputIds.shape))
        {
            throw new ArgumentException($"The {what} has shape [{string.Join(", ", tensor.shape)}] but the input ids have [{string.Join(", ", inputIds.shape)}].");
        }
    }

    private static void RequireIntegral(Tensor tensor, string what)
    {
        if (tensor.dtype is not (ScalarType.Int64 or ScalarType.Int32 or ScalarType.Int16 or ScalarType.Int8 or ScalarType.Byte))
        {
            throw new ArgumentException($"The {what} must be an integer tensor (int64 preferred); got {tensor.dtype}.");
        }
    }

    private static void RequireRange(Tensor tensor, long low, long high, string what, string configKey)
    {
        using var scope = NewDisposeScope();
        long min = tensor.min().item<long>();
        long max = tensor.max().item<long>();
        if (min < low || max >= high)
        {
            long bad = min < low ? min : max;
            throw new ArgumentException($"The {what} contain {bad}, outside [0, {high}) set by {configKey}={high}.");
        }
    }
}
