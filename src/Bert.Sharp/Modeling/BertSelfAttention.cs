using Bert.Sharp.Attention;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Modeling;

/// <summary>
/// Multi-head self-attention: query, key and value projections, then one <see cref="IAttentionKernel"/>.
/// Keys <c>attention.self.query.weight</c> and so on; in DistilBERT's layout the same block is <c>attention.q_lin</c>,
/// <c>k_lin</c>, <c>v_lin</c> and also holds the output projection <c>out_lin</c>, applied here.
/// </summary>
internal sealed class BertSelfAttention : nn.Module<Tensor, EncoderContext, Tensor>
{
#pragma warning disable IDE1006, SA1300 // Field names are Hugging Face checkpoint keys.
    private readonly BertLinear query;
    private readonly BertLinear key;
    private readonly BertLinear value;
    private readonly BertLinear? out_lin;
#pragma warning restore IDE1006, SA1300
    private readonly int heads;
    private readonly int headSize;
    private readonly double dropoutProbability;
    private Tensor? sharedProjection;
    private PackedLinearWeight? packedProjection;

    // The shared storage seen as the [3·out, in] weight that linear takes: one view made once, not one per call.
    private Tensor? sharedWeight;

    public BertSelfAttention(BertConfig config) : this(config, EncoderLayerLayout.Bert)
    {
    }

    /// <summary>Builds the block with the names of <paramref name="layout"/>.</summary>
    public BertSelfAttention(BertConfig config, EncoderLayerLayout layout) : base(nameof(BertSelfAttention))
    {
        ArgumentNullException.ThrowIfNull(config);
        heads = config.NumAttentionHeads;
        headSize = config.HeadSize;
        dropoutProbability = config.AttentionProbsDropoutProb;
        query = new BertLinear(config.HiddenSize, config.HiddenSize);
        key = new BertLinear(config.HiddenSize, config.HiddenSize);
        value = new BertLinear(config.HiddenSize, config.HiddenSize);
        Kernel = AttentionKernels.Get(config.AttentionImplementation);
        if (layout == EncoderLayerLayout.DistilBert)
        {
            out_lin = new BertLinear(config.HiddenSize, config.HiddenSize);
            register_module("q_lin", query);
            register_module("k_lin", key);
            register_module("v_lin", value);
            register_module("out_lin", out_lin);
        }
        else
        {
            register_module("query", query);
            register_module("key", key);
            register_module("value", value);
        }
    }

    /// <summary>Submodules are registered by name in the constructor (names depend on the family); field-based registration would add them twice.</summary>
    protected override void RegisterComponents()
    {
    }

    /// <summary>The kernel that turns Q, K, V into the context; swap it to change the implementation.</summary>
    public IAttentionKernel Kernel { get; set; }

    /// <summary>The query, key and value projections, in that order.</summary>
    public IReadOnlyList<BertLinear> Projections => [query, key, value];

    /// <summary>
    /// Attends over <paramref name="hidden"/>: [batch, seq, hidden], or [tokens, hidden] when the context runs unpadded
    /// (and so is the result).
    /// </summary>
    public override Tensor forward(Tensor hidden, EncoderContext context)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        ArgumentNullException.ThrowIfNull(context);
        using var scope = NewDisposeScope();
        bool wantProbabilities = context.ReturnAttentionProbabilities;
        IAttentionKernel kernel = wantProbabilities && !Kernel.CanReturnProbabilities ? EagerAttentionKernel.Instance : Kernel;
        PaddingLayout? layout = context.Layout;

        Tensor qkv = Repad(Project(hidden), layout);
        Tensor? keyMask = layout?.KeyMask ?? context.KeyPaddingMask;
        double dropout = training ? dropoutProbability : 0.0;
        Tensor? probabilities = null;
        // A kernel that takes the projection as it is (CPU training) saves splitting the heads out and merging them back.
        Tensor? merged = wantProbabilities ? null : (kernel as IPackedAttentionKernel)?.TryComputePacked(qkv, heads, keyMask, dropout);
        if (merged is null)
        {
            Tensor heads5 = qkv.view(qkv.shape[0], qkv.shape[1], 3, heads, headSize).permute(2, 0, 3, 1, 4);
            Tensor q = heads5[0], k = heads5[1], v = heads5[2];
            (Tensor attended, probabilities) = kernel.Compute(q, k, v, keyMask, dropout, wantProbabilities);
            merged = attended.transpose(1, 2).reshape(q.shape[0], q.shape[2], heads * headSize);
        }

        if (layout is not null)
        {
            merged = layout.Unpad(merged);
        }

        if (out_lin is not null)
        {
            merged = out_lin.call(merged);
        }

        if (probabilities is not null)
        {
            context.AddProbabilities(probabilities);
        }

        return merged.MoveToOuterDisposeScope();
    }

    // One GEMM for the three projections (better use of the matrix unit than three thin ones); the weights stay three
    // separate parameters so checkpoints keep Hugging Face's names, and gradients flow back through cat. Adapters add
    // their terms to their own third of the result.
    internal Tensor Project(Tensor hidden)
    {
        Tensor bias = cat([query.Bias!, key.Bias!, value.Bias!], 0);
        Tensor? shared = SharedProjection();
        Tensor qkv = shared is not null && packedProjection?.TryMultiply(hidden, [query.Weight, key.Weight, value.Weight], shared, bias) is { } packed
            ? packed
            : nn.functional.linear(hidden, shared ?? (query.Weight.is_contiguous()
                ? cat([query.Weight, key.Weight, value.Weight], 0)
                : cat([query.Weight.t(), key.Weight.t(), value.Weight.t()], 1).t()), bias);
        long width = query.OutFeatures;
        BertLinear[] projections = [query, key, value];
        for (int i = 0; i < projections.Length; i++)
        {
            if (projections[i].Adapter?.Delta(hidden) is { } delta)
            {
                Runtime.HeldScalars.AddInPlace(qkv.narrow(-1, i * width, width), delta);
            }
        }

        return qkv;
    }

    /// <summary>
    /// For serving (<see cref="LinearWeightLayout"/>): the three projection weights become column slices of one row-major
    /// [in, 3·out] storage, so that inference multiplies by that storage without concatenating the weights on every call.
    /// The parameters stay three (names, shapes, values, gradients, saved files unchanged); anything done to them in place —
    /// an optimizer step, a LoRA merge — is done to the shared storage.
    /// </summary>
    /// <returns>How many weights moved: the three, or none (already shared, or not float32 on the CPU).</returns>
    internal int ShareProjectionStorage()
    {
        if (query.Weight.device_type != DeviceType.CPU || query.Weight.dtype != ScalarType.Float32 || IsShared())
        {
            return 0;
        }

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Tensor storage = cat([query.Weight.t(), key.Weight.t(), value.Weight.t()], 1);
        long width = query.OutFeatures;
        BertLinear[] projections = [query, key, value];
        for (int i = 0; i < projections.Length; i++)
        {
            projections[i].Weight.set_(storage.narrow(1, i * width, width).t());
        }

        ReleaseProjectionStorage();
        // Owned by this module (released above or in Dispose), so taken out of every dispose scope: moved to the caller's,
        // it would die with a scope the caller opened around loading.
        sharedProjection = storage.DetachFromDisposeScope();
        sharedWeight = sharedProjection.t().DetachFromDisposeScope();
        return projections.Length;
    }

    /// <summary>Whether the shared Q/K/V weight has a packed copy (<see cref="PackForSmallRows"/>).</summary>
    internal bool HasPackedProjection => packedProjection is not null;

    /// <summary>
    /// Packs the shared [3·out, in] weight for few-row inputs without gradients (<see cref="PackedLinearWeight"/>), once
    /// <see cref="ShareProjectionStorage"/> has made it; returns whether it was packed.
    /// </summary>
    internal bool PackForSmallRows()
    {
        packedProjection = IsShared() ? PackedLinearWeight.TryCreate(sharedWeight!, query.Weight, key.Weight, value.Weight) : null;
        return packedProjection is not null;
    }

    /// <summary>Forgets the shared storage (the weights have been given storages of their own, for training).</summary>
    internal void ReleaseProjectionStorage()
    {
        packedProjection = null;
        sharedWeight?.Dispose();
        sharedWeight = null;
        sharedProjection?.Dispose();
        sharedProjection = null;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            ReleaseProjectionStorage();
        }

        base.Dispose(disposing);
    }

    // The shared [3·out, in] weight when it may be used: without gradients (the parameters, not the storage, are the leaves
    // that train) and while the three weights still are its slices.
    private Tensor? SharedProjection() => !is_grad_enabled() && IsShared() ? sharedWeight : null;

    // Whether the three weights still are the shared storage's slices: a weight moved to another device or dtype, or given a
    // storage of its own, no longer is, and the weights are concatenated as usual.
    private bool IsShared()
    {
        if (sharedProjection is null)
        {
            return false;
        }

        // The storage's address, not a Storage object: TorchSharp's storage<T>() makes a tensor per call (four per layer per forward).
        long width = query.OutFeatures, columns = 3 * width;
        IntPtr shared = Runtime.StorageAddress.Of(sharedProjection);
        BertLinear[] projections = [query, key, value];
        for (int i = 0; i < projections.Length; i++)
        {
            Tensor weight = projections[i].Weight;
            if (weight.device_type != DeviceType.CPU || weight.dtype != ScalarType.Float32 || weight.storage_offset() != i * width
                || weight.stride(0) != 1 || weight.stride(1) != columns || Runtime.StorageAddress.Of(weight) != shared)
            {
                return false;
            }
        }

        return true;
    }

    private static Tensor Repad(Tensor projected, PaddingLayout? layout) => layout is null ? projected : layout.Pad(projected);
}
