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
    public (Tensor Context, Tensor? Probabilities) Forward(Tensor hidden, Tensor? keyPaddingMask, bool returnProbabilities) =>
        Forward(hidden, keyPaddingMask, returnProbabilities, null);

    /// <summary>
    /// As <see cref="Forward(Tensor, Tensor?, bool)"/>; with a <paramref name="layout"/>, <paramref name="hidden"/> holds only the
    /// real tokens, [tokens, hidden], and so does the result.
    /// </summary>
    internal (Tensor Context, Tensor? Probabilities) Forward(Tensor hidden, Tensor? keyPaddingMask, bool returnProbabilities, PaddingLayout? layout)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        using var scope = NewDisposeScope();
        IAttentionKernel kernel = returnProbabilities && !Kernel.CanReturnProbabilities ? EagerAttentionKernel.Instance : Kernel;

        // One GEMM for the three projections (better use of the matrix unit than three thin ones); the weights stay
        // three separate parameters so checkpoints keep Hugging Face's names, and gradients flow back through cat.
        Tensor weight = cat([query.weight!, key.weight!, value.weight!], 0);
        Tensor bias = cat([query.bias!, key.bias!, value.bias!], 0);
        Tensor qkv = Repad(nn.functional.linear(hidden, weight, bias), layout);
        Tensor heads5 = qkv.view(qkv.shape[0], qkv.shape[1], 3, heads, headSize).permute(2, 0, 3, 1, 4);
        Tensor q = heads5[0], k = heads5[1], v = heads5[2];
        (Tensor context, Tensor? probabilities) = kernel.Compute(q, k, v, layout?.KeyMask ?? keyPaddingMask, training ? dropoutProbability : 0.0, returnProbabilities);
        Tensor merged = context.transpose(1, 2).reshape(q.shape[0], q.shape[2], heads * headSize);
        if (layout is not null)
        {
            merged = layout.Unpad(merged);
        }

        probabilities?.MoveToOuterDisposeScope();
        return (merged.MoveToOuterDisposeScope(), probabilities);
    }

    private static Tensor Repad(Tensor projected, PaddingLayout? layout) => layout is null ? projected : layout.Pad(projected);

}
