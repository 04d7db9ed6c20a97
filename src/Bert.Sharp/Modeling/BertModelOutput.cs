using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>
/// What <see cref="BertModel.Forward(Tensor, Tensor?, Tensor?)"/> returns (Hugging Face's <c>BaseModelOutputWithPooling</c>). Disposing it disposes every tensor it holds;
/// inside a <c>torch.NewDisposeScope()</c> the scope does that too.
/// </summary>
public sealed class BertModelOutput : IDisposable
{
    /// <summary>Creates an output.</summary>
    public BertModelOutput(Tensor lastHiddenState, Tensor? pooledOutput, IReadOnlyList<Tensor>? hiddenStates = null, IReadOnlyList<Tensor>? attentions = null)
    {
        LastHiddenState = lastHiddenState ?? throw new ArgumentNullException(nameof(lastHiddenState));
        PooledOutput = pooledOutput;
        HiddenStates = hiddenStates;
        Attentions = attentions;
    }

    /// <summary>The final hidden state of every token, [batch, seq, hidden].</summary>
    public Tensor LastHiddenState { get; }

    /// <summary>The pooler's output for the [CLS] token, [batch, hidden]; <c>null</c> for a model without a pooler.</summary>
    public Tensor? PooledOutput { get; }

    /// <summary>With <see cref="BertForwardOptions.OutputHiddenStates"/>: the embeddings and each layer's output (layers + 1 tensors).</summary>
    public IReadOnlyList<Tensor>? HiddenStates { get; }

    /// <summary>With <see cref="BertForwardOptions.OutputAttentions"/>: each layer's attention probabilities [batch, heads, seq, seq].</summary>
    public IReadOnlyList<Tensor>? Attentions { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        LastHiddenState.Dispose();
        PooledOutput?.Dispose();
        if (HiddenStates is not null)
        {
            foreach (Tensor t in HiddenStates)
            {
                t.Dispose();
            }
        }

        if (Attentions is not null)
        {
            foreach (Tensor t in Attentions)
            {
                t.Dispose();
            }
        }
    }
}
