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
/// Load a pretrained model with <c>FromPretrained</c>; build a fresh one with the constructor. Evaluation belongs
/// under <c>torch.no_grad()</c> with <c>eval()</c> set; training under a dispose scope per step.
/// </remarks>
public sealed partial class BertModel : nn.Module
{
#pragma warning disable IDE1006, SA1300 // Field names are Hugging Face checkpoint keys.
    private readonly BertEmbeddings embeddings;
    private readonly BertEncoder encoder;
    private readonly BertPooler? pooler;
#pragma warning restore IDE1006, SA1300

    /// <summary>Builds a model with freshly initialised weights (normal(0, initializer_range), as Hugging Face does).</summary>
    /// <param name="config">The architecture; validated here.</param>
    /// <param name="addPoolingLayer">Whether to include the pooler (<c>pooler.dense.*</c>).</param>
    /// <exception cref="ArgumentException">The config is invalid; the message names the key.</exception>
    public BertModel(BertConfig config, bool addPoolingLayer = true) : base(nameof(BertModel))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        TorchRuntime.EnsureLoaded();
        Config = config;
        embeddings = new BertEmbeddings(config);
        encoder = new BertEncoder(config);
        pooler = addPoolingLayer ? new BertPooler(config) : null;
        RegisterComponents();
        WeightInitialization.Apply(this, config.InitializerRange, config.PadTokenId);
    }

    /// <summary>The architecture this model was built from.</summary>
    public BertConfig Config { get; private set; }

    /// <summary>The embedding block.</summary>
    public BertEmbeddings Embeddings => embeddings;

    /// <summary>The encoder layers, input side first.</summary>
    public IReadOnlyList<BertLayer> Layers => encoder.Layers;

    /// <summary>The pooler, or <c>null</c> for a model built without one.</summary>
    public BertPooler? Pooler => pooler;

    /// <summary>The device the parameters live on.</summary>
    public Device Device => embeddings.WordEmbeddings.weight!.device;

    /// <summary>
    /// Runs token-wise work (projections, feed-forward, LayerNorm) over the real tokens of a padded batch only, padding
    /// them back just for attention. Same results at real positions, far less work on ragged batches; padded positions
    /// of <see cref="BertOutput.LastHiddenState"/> are then zero instead of the (meaningless) values a padded run gives
    /// them. Off by default so that outputs equal Hugging Face's at every position; classifiers turn it on.
    /// </summary>
    public bool UnpadInputs { get; set; }

    /// <summary>
    /// Switches every layer to another attention kernel (see <see cref="AttentionKernels"/>); results are the same,
    /// speed and memory differ.
    /// </summary>
    public void SetAttentionImplementation(string name)
    {
        IAttentionKernel kernel = AttentionKernels.Get(name);
        foreach (BertLayer layer in encoder.Layers)
        {
            layer.Attention.Self.Kernel = kernel;
        }

        Config = Config with { AttnImplementation = name };
    }

    /// <summary>Encodes a batch of token ids.</summary>
    /// <param name="inputIds">Token ids [batch, seq], int64, on the model's device.</param>
    /// <param name="attentionMask">1 for real tokens, 0 for padding, [batch, seq]; <c>null</c> when nothing is padded.</param>
    /// <param name="tokenTypeIds">Segment ids [batch, seq]; <c>null</c> for all zeros.</param>
    /// <exception cref="ArgumentException">A shape, dtype or id is out of range for this model; checked before native code runs.</exception>
    public BertOutput Forward(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null) =>
        Forward(inputIds, attentionMask, tokenTypeIds, null);

    /// <summary>Encodes a batch of token ids, with the less common inputs and outputs of <paramref name="options"/>.</summary>
    /// <inheritdoc cref="Forward(Tensor, Tensor?, Tensor?)"/>
    public BertOutput Forward(Tensor inputIds, Tensor? attentionMask, Tensor? tokenTypeIds, BertForwardOptions? options)
    {
        BertInputValidator.Validate(Config, inputIds, attentionMask, tokenTypeIds, options?.PositionIds);
        bool wantHidden = options?.OutputHiddenStates ?? false;
        bool wantAttentions = options?.OutputAttentions ?? false;

        using var scope = NewDisposeScope();
        Device device = Device;
        Tensor ids = inputIds.device == device ? inputIds : inputIds.to(device);
        Tensor? types = tokenTypeIds is null ? null : (tokenTypeIds.device == device ? tokenTypeIds : tokenTypeIds.to(device));
        Tensor? positions = options?.PositionIds?.to(device);
        Tensor? keyMask = PaddingMask(attentionMask, device);

        Tensor hidden = embeddings.forward(ids, types, positions);
        var hiddenStates = wantHidden ? new List<Tensor> { hidden } : null;
        var attentions = wantAttentions ? new List<Tensor>() : null;
        using PaddingLayout? layout = UnpadInputs && keyMask is not null ? PaddingLayout.FromMask(keyMask) : null;
        if (layout is not null)
        {
            hidden = layout.Unpad(hidden);
        }

        foreach (BertLayer layer in encoder.Layers)
        {
            (hidden, Tensor? probabilities) = layer.Forward(hidden, keyMask, wantAttentions, layout);
            hiddenStates?.Add(layout is null ? hidden : layout.Pad(hidden));
            if (probabilities is not null)
            {
                attentions!.Add(probabilities);
            }
        }

        if (layout is not null)
        {
            hidden = hiddenStates is null ? layout.Pad(hidden) : hiddenStates[^1];
        }

        Tensor? pooled = pooler?.forward(hidden);
        var output = new BertOutput(hidden, pooled, hiddenStates, attentions);
        hidden.MoveToOuterDisposeScope();
        pooled?.MoveToOuterDisposeScope();
        hiddenStates?.ForEach(t => t.MoveToOuterDisposeScope());
        attentions?.ForEach(t => t.MoveToOuterDisposeScope());
        return output;
    }

    // A mask of all ones pads nothing: returning null lets kernels take their unmasked (faster) path.
    private static Tensor? PaddingMask(Tensor? attentionMask, Device device)
    {
        if (attentionMask is null)
        {
            return null;
        }

        Tensor mask = attentionMask.to(ScalarType.Bool, device);
        return mask.all().item<bool>() ? null : mask;
    }
}
