using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>
/// The three int64 tensors a BERT model consumes, each shaped [batch, sequence]. Dispose it (or create it inside
/// a TorchSharp dispose scope) when the forward pass is done.
/// </summary>
public sealed class BertInputTensors : IDisposable
{
    internal BertInputTensors(Tensor inputIds, Tensor attentionMask, Tensor tokenTypeIds)
    {
        InputIds = inputIds;
        AttentionMask = attentionMask;
        TokenTypeIds = tokenTypeIds;
    }

    /// <summary>Token ids (<c>input_ids</c>).</summary>
    public Tensor InputIds { get; }

    /// <summary>1 for real tokens, 0 for padding (<c>attention_mask</c>).</summary>
    public Tensor AttentionMask { get; }

    /// <summary>0 for the first text, 1 for the second (<c>token_type_ids</c>).</summary>
    public Tensor TokenTypeIds { get; }

    /// <summary>Disposes the three tensors.</summary>
    public void Dispose()
    {
        InputIds.Dispose();
        AttentionMask.Dispose();
        TokenTypeIds.Dispose();
    }
}
