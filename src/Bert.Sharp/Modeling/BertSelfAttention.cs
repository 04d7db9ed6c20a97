using Bert.Sharp.Attention;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bert.Sharp.Modeling;

/// <summary>
/// Multi-head self-attention: query, key and value projections, then one <see cref="IAttentionKernel"/>.
/// Keys <c>attention.self.query.weight</c> and so on.
/// </summary>
public sealed class BertSelfAttention : nn.Module
{
#pragma warning disable IDE1006, SA1300 // Field names are Hugging Face checkpoint keys.
    private readonly Linear query;
    private readonly Linear key;
    private readonly Linear value;
#pragma warning restore IDE1006, SA1300
    private readonly int heads;
    private readonly int headSize;
    private readonly double dropoutProbability;

    /// <summary>Creates the attention of <paramref name="config"/>.</summary>
    public BertSelfAttention(BertConfig config) : base(nameof(BertSelfAttention))
    {
        ArgumentNullException.ThrowIfNull(config);
        heads = config.NumAttentionHeads;
        headSize = config.HeadSize;
        dropoutProbability = config.AttentionProbsDropoutProb;
        query = nn.Linear(config.HiddenSize, config.HiddenSize);
        key = nn.Linear(config.HiddenSize, config.HiddenSize);
        value = nn.Linear(config.HiddenSize, config.HiddenSize);
        Kernel = AttentionKernels.Get(config.AttnImplementation);
        RegisterComponents();
    }

    /// <summary>The kernel that turns Q, K, V into the context; swap it to change the implementation.</summary>
    public IAttentionKernel Kernel { get; set; }

    /// <summary>Attends over <paramref name="hidden"/> [batch, seq, hidden].</summary>
    /// <param name="hidden">The layer input.</param>
    /// <param name="keyPaddingMask">Boolean [batch, seq], true for real tokens; <c>null</c> when nothing is padded.</param>
    /// <param name="returnProbabilities">Also return the probabilities (needs a kernel that can).</param>
    /// <returns>The context [batch, seq, hidden] and, when asked for, the probabilities.</returns>
    public (Tensor Context, Tensor? Probabilities) Forward(Tensor hidden, Tensor? keyPaddingMask, bool returnProbabilities)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        using var scope = NewDisposeScope();
        IAttentionKernel kernel = returnProbabilities && !Kernel.CanReturnProbabilities ? EagerAttentionKernel.Instance : Kernel;
        Tensor q = SplitHeads(query.forward(hidden));
        Tensor k = SplitHeads(key.forward(hidden));
        Tensor v = SplitHeads(value.forward(hidden));
        (Tensor context, Tensor? probabilities) = kernel.Compute(q, k, v, keyPaddingMask, training ? dropoutProbability : 0.0, returnProbabilities);
        Tensor merged = context.transpose(1, 2).reshape(hidden.shape[0], hidden.shape[1], heads * headSize);
        probabilities?.MoveToOuterDisposeScope();
        return (merged.MoveToOuterDisposeScope(), probabilities);
    }

    // [batch, seq, hidden] -> [batch, heads, seq, head size]
    private Tensor SplitHeads(Tensor x) => x.view(x.shape[0], x.shape[1], heads, headSize).transpose(1, 2);
}
