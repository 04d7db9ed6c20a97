using Bert.Sharp.Attention;
using Bert.Sharp.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>
/// The BERT encoder (embeddings, transformer layers, optional pooler) as a TorchSharp module whose parameter
/// names are those of Hugging Face checkpoints (<c>embeddings.word_embeddings.weight</c>,
/// <c>encoder.layer.3.attention.self.query.bias</c>, <c>pooler.dense.weight</c>), so a state dict maps 1:1.
/// </summary>
/// <remarks>
/// Load a pretrained model with <c>FromPretrained</c>; build a fresh one with the constructor. <see cref="Forward(Tensor, Tensor?, Tensor?)"/>
/// is the one forward path — training, serving and your own code all use it — and invokes every submodule through
/// <c>call</c>, so TorchSharp forward hooks fire. Evaluation belongs under <c>torch.no_grad()</c> with <c>eval()</c> set;
/// training under a dispose scope per step. Its <see cref="Units"/> (embeddings, each layer, pooler) are what freeze
/// policies train or freeze.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1708:Identifiers should differ by more than case", Justification = "forward is TorchSharp's module override; Forward is the documented entry point that runs it through call (hooks).")]
public sealed partial class BertModel : nn.Module<Tensor, Tensor?, Tensor?, BertForwardOptions?, BertModelOutput>
{
    // Unpadding pays once this share of a batch's positions is padding (RaggedBatchBenchmarks: the gathers cost less than
    // the wasted projections and feed-forward work beyond about a fifth).
    private const double UnpadThreshold = 0.25;

#pragma warning disable IDE1006, SA1300 // Field names are Hugging Face checkpoint keys.
    private readonly BertEmbeddings embeddings;
    private readonly BertEncoder encoder;
    private readonly BertPooler? pooler;
#pragma warning restore IDE1006, SA1300

    // ModernBERT's final_norm (after the last layer); null for the other families.
    private readonly TorchSharp.Modules.LayerNorm? finalNorm;

    /// <summary>Builds a model with freshly initialised weights (normal(0, initializer_range), as Hugging Face does).</summary>
    /// <param name="config">The architecture; validated here.</param>
    /// <param name="addPoolingLayer">Whether to include the pooler (<c>pooler.dense.*</c>); ignored for a family without one (DistilBERT, ModernBERT).</param>
    /// <exception cref="ArgumentException">The config is invalid; the message names the key.</exception>
    public BertModel(BertConfig config, bool addPoolingLayer = true) : base(nameof(BertModel))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        TorchRuntime.EnsureLoaded();
        Config = config;
        Family = config.Family;
        embeddings = new BertEmbeddings(config);
        encoder = new BertEncoder(config);
        pooler = addPoolingLayer && Family.HasPooler ? new BertPooler(config) : null;

        // Registered by name, not by field: the layer stack is DistilBERT's 'transformer', the others' 'encoder'; ModernBERT
        // holds its layers directly ('layers.N') and a 'final_norm' after them.
        register_module("embeddings", embeddings);
        if (Family.LayerLayout == EncoderLayerLayout.ModernBert)
        {
            register_module(Family.EncoderAttribute, encoder.LayerList);
            finalNorm = nn.LayerNorm(config.HiddenSize, eps: config.LayerNormEps, bias: Modeling.ModernBertSettings.Read(config).NormBias);
            register_module("final_norm", finalNorm);
        }
        else
        {
            register_module(Family.EncoderAttribute, encoder);
        }

        if (pooler is not null)
        {
            register_module("pooler", pooler);
        }

        WeightInitialization.Apply(this, config.InitializerRange, config.PadTokenId);
        UnseededInitialization.Register(this, EncoderSeedSalt, generator => WeightInitialization.Apply(this, config.InitializerRange, config.PadTokenId, generator));
    }

    /// <summary>Submodules are registered by name in the constructor (names depend on the family); field-based registration would add them twice.</summary>
    protected override void RegisterComponents()
    {
    }

    /// <summary>The encoder family (from <c>model_type</c>): decides the module names, positions, token types and pooler.</summary>
    public EncoderFamily Family { get; }

    // Added to a run's seed when it redraws an encoder built from a config (the head uses the seed itself, as ClassifierLoadOptions.Seed does).
    private const ulong EncoderSeedSalt = 0x9E3779B97F4A7C15UL;

    /// <summary>The architecture this model was built from.</summary>
    public BertConfig Config { get; private set; }

    /// <summary>The embedding block (unit 0).</summary>
    public BertEmbeddings Embeddings => embeddings;

    /// <summary>The encoder layers, input side first.</summary>
    public IReadOnlyList<BertLayer> Layers => encoder.Layers;

    /// <summary>The pooler, or <c>null</c> for a model built without one.</summary>
    public BertPooler? Pooler => pooler;

    /// <summary>The units from the input side: embeddings, each encoder layer, the pooler (when present; ModernBERT's <c>final_norm</c> in its place).</summary>
    public IReadOnlyList<ModelUnit> Units => GetUnits(string.Empty, usesPooler: pooler is not null);

    /// <summary>
    /// Gradient checkpointing (Hugging Face's <c>gradient_checkpointing_enable()</c>): when a forward pass records autograd,
    /// every encoder layer with trainable parameters keeps only its input and is run again during the backward pass, with
    /// the same dropout masks and precision. Gradients are the same; activation memory drops to about one layer's worth, for
    /// roughly one more forward pass of compute. Ignored when attention probabilities are requested. Off by default;
    /// <see cref="FineTuningOptions.GradientCheckpointing"/> sets it for a training run.
    /// </summary>
    public bool GradientCheckpointing { get; set; }

    /// <summary>The device the parameters live on.</summary>
    public Device Device
    {
        get
        {
            // Embedding.weight is a new handle on every read: disposed here rather than left to the finalizer, which could
            // free it while the native device query still reads it.
            using Tensor weight = embeddings.WordEmbeddings.weight!;
            return weight.device;
        }
    }

    /// <summary>
    /// Switches every layer to another attention kernel (see <see cref="AttentionKernels"/>); results are the same,
    /// speed and memory differ.
    /// </summary>
    public void SetAttentionImplementation(string name)
    {
        IAttentionKernel kernel = AttentionKernels.Get(name);
        foreach (BertLayer layer in encoder.Layers)
        {
            layer.AttentionKernel = kernel;
        }

        Config = Config with { AttentionImplementation = name };
    }

    /// <summary>Encodes a batch of token ids.</summary>
    /// <param name="inputIds">Token ids [batch, seq], int64 (int32 is converted), on the model's device or the CPU.</param>
    /// <param name="attentionMask">1 for real tokens, 0 for padding, [batch, seq]; <c>null</c> when nothing is padded.</param>
    /// <param name="tokenTypeIds">Segment ids [batch, seq]; <c>null</c> for all zeros.</param>
    /// <exception cref="ArgumentException">A shape, dtype or id is out of range for this model; checked before native code runs.</exception>
    public BertModelOutput Forward(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null) =>
        call(inputIds, attentionMask, tokenTypeIds, null);

    /// <summary>Encodes a batch of token ids, with the less common inputs and outputs of <paramref name="options"/>.</summary>
    /// <inheritdoc cref="Forward(Tensor, Tensor?, Tensor?)"/>
    public BertModelOutput Forward(Tensor inputIds, Tensor? attentionMask, Tensor? tokenTypeIds, BertForwardOptions? options) =>
        call(inputIds, attentionMask, tokenTypeIds, options);

    /// <summary>The forward pass (TorchSharp's entry point; call <see cref="Forward(Tensor, Tensor?, Tensor?)"/> or <c>call</c> so hooks run).</summary>
    public override BertModelOutput forward(Tensor inputIds, Tensor? attentionMask, Tensor? tokenTypeIds, BertForwardOptions? options)
    {
        BertInputValidator.Validate(Config, inputIds, attentionMask, tokenTypeIds, options?.PositionIds);
        bool wantHidden = options?.OutputHiddenStates ?? false;
        bool wantAttentions = options?.OutputAttentions ?? false;

        DisposeScope? callerScope = CurrentDisposeScope;
        using var scope = NewDisposeScope();
        Device device = Device;
        Tensor ids = OnDevice(inputIds, device);
        // A family without token types (DistilBERT, ModernBERT) takes none, as its Hugging Face forward does.
        Tensor? types = tokenTypeIds is null || !Family.HasTokenTypes ? null : OnDevice(tokenTypeIds, device);
        Tensor? positions = options?.PositionIds is null ? null : OnDevice(options.PositionIds, device);
        Tensor? keyMask = PaddingMask(attentionMask, device);
        PaddingLayout? layout = ChooseLayout(keyMask, options?.Unpadding ?? UnpaddingMode.Auto);

        // Recomputing a layer would collect its attention probabilities twice; without autograd there is nothing to save.
        bool checkpointing = GradientCheckpointing && !wantAttentions && is_grad_enabled();
        if (checkpointing)
        {
            // Checkpointed layers run again in the backward pass, after this scope has ended: their mask and layout must
            // outlive it (the autograd graph holds them; the GC releases them with it).
            keyMask?.DetachFromDisposeScope();
            layout?.DetachFromDisposeScope();
            positions?.DetachFromDisposeScope();
        }

        using PaddingLayout? ownedLayout = checkpointing ? null : layout;
        var context = new EncoderContext(keyMask, wantAttentions)
        {
            Layout = layout,
            CollectsHiddenStates = wantHidden,
            ResultScope = callerScope,
            GradientCheckpointing = checkpointing,
            PositionIds = finalNorm is null ? null : positions,
        };

        Tensor hidden = embeddings.call(ids, types, positions);
        if (wantHidden)
        {
            context.AddHiddenState(hidden.alias());
        }

        hidden = encoder.call(layout is null ? hidden : layout.Unpad(hidden), context);
        if (layout is not null)
        {
            hidden = layout.Pad(hidden);
        }

        if (finalNorm is not null)
        {
            hidden = finalNorm.call(hidden);
        }

        Tensor? pooled = pooler?.call(hidden);
        hidden.MoveToOuterDisposeScope();
        pooled?.MoveToOuterDisposeScope();
        return new BertModelOutput(hidden, pooled, wantHidden ? context.HiddenStates : null, wantAttentions ? context.AttentionProbabilities : null);
    }

    /// <summary>The units of this model with parameter names under <paramref name="prefix"/> (<c>bert</c> inside a task model).</summary>
    internal IReadOnlyList<ModelUnit> GetUnits(string prefix, bool usesPooler)
    {
        string Prefixed(string name) => prefix.Length == 0 ? name : $"{prefix}.{name}";
        var units = new List<ModelUnit>(encoder.Layers.Count + 2)
        {
            new("embeddings", embeddings, Prefixed("embeddings")) { Kind = ModelUnitKind.Embeddings, Depth = 0 },
        };
        for (int i = 0; i < encoder.Layers.Count; i++)
        {
            string name = Family.LayerName(i);
            units.Add(new ModelUnit(name, encoder.Layers[i], Prefixed(name)) { Kind = ModelUnitKind.EncoderLayer, Depth = i + 1 });
        }

        if (finalNorm is not null)
        {
            // ModernBERT's final_norm sits where BERT's pooler does: it learns as soon as any layer does.
            units.Add(new ModelUnit("final_norm", finalNorm, Prefixed("final_norm")) { Kind = ModelUnitKind.Pooler, Depth = encoder.Layers.Count + 1 });
        }

        if (pooler is not null)
        {
            units.Add(new ModelUnit("pooler", pooler, Prefixed("pooler")) { Kind = ModelUnitKind.Pooler, Depth = encoder.Layers.Count + 1, IsUsed = usesPooler });
        }

        return units;
    }

    private static Tensor OnDevice(Tensor tensor, Device device)
    {
        Tensor placed = tensor.device == device ? tensor : tensor.to(device);
        return placed.dtype == ScalarType.Int64 ? placed : placed.to(ScalarType.Int64);
    }

    // A mask of all ones pads nothing: returning null lets kernels take their unmasked (faster) path.
    private static Tensor? PaddingMask(Tensor? attentionMask, Device device)
    {
        if (attentionMask is null)
        {
            return null;
        }

        Tensor mask = attentionMask.to(ScalarType.Bool, device);
        return Runtime.HostRead.Item<bool>(mask.all()) ? null : mask;
    }

    private static PaddingLayout? ChooseLayout(Tensor? keyMask, UnpaddingMode mode)
    {
        if (keyMask is null || mode == UnpaddingMode.Never)
        {
            return null;
        }

        if (mode == UnpaddingMode.Auto)
        {
            long positions = keyMask.numel();
            long real = Runtime.HostRead.Item<long>(keyMask.sum());
            if (positions - real < UnpadThreshold * positions)
            {
                return null;
            }
        }

        return PaddingLayout.FromMask(keyMask);
    }
}
