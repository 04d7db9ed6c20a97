using Bert.Sharp.Adapters;
using Bert.Sharp.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>
/// The layer added on the output side of a pretrained encoder: pools the token states into one vector per text
/// (see <see cref="PoolingStrategy"/>), applies dropout, then one linear layer to the class logits. Its parameters
/// are <c>weight</c> and <c>bias</c>, so inside <see cref="BertForSequenceClassification"/> they are Hugging Face's
/// <c>classifier.weight</c> and <c>classifier.bias</c>.
/// </summary>
/// <remarks>
/// This is the part transfer learning trains: with the encoder frozen, it learns alone on fixed features. You rarely
/// build one yourself; <see cref="BertForSequenceClassification"/> does.
/// </remarks>
public sealed class ClassificationHead : nn.Module<Tensor, Tensor>, IHeadWithAdapters
{
#pragma warning disable IDE1006, SA1300 // Field names are Hugging Face checkpoint keys.
    private readonly Parameter weight;
    private readonly Parameter bias;
    private readonly FastDropout dropout;
#pragma warning restore IDE1006, SA1300

    /// <summary>Creates a head with Hugging Face's initialisation: weight normal(0, <paramref name="initializerRange"/>), bias zero.</summary>
    /// <param name="hiddenSize">Width of the encoder's hidden states.</param>
    /// <param name="numLabels">Number of outputs (classes, or regression targets).</param>
    /// <param name="dropoutProbability">Dropout before the linear layer (<c>classifier_dropout</c>, else <c>hidden_dropout_prob</c>).</param>
    /// <param name="pooling">How token states become one vector.</param>
    /// <param name="initializerRange">Standard deviation of the weight initialisation.</param>
    public ClassificationHead(int hiddenSize, int numLabels, double dropoutProbability = 0.1, PoolingStrategy pooling = PoolingStrategy.Pooler, double initializerRange = 0.02)
        : base(nameof(ClassificationHead))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hiddenSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numLabels);
        if (!(dropoutProbability >= 0 && dropoutProbability < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(dropoutProbability), dropoutProbability, "Dropout must be in [0, 1).");
        }

        TorchRuntime.EnsureLoaded();
        weight = Runtime.ModuleParameter.Create(empty(numLabels, hiddenSize));
        bias = Runtime.ModuleParameter.Create(zeros(numLabels));
        dropout = new FastDropout(dropoutProbability);
        Pooling = pooling;
        HiddenSize = hiddenSize;
        NumLabels = numLabels;
        DropoutProbability = dropoutProbability;
        RegisterComponents();
        ResetParameters(initializerRange);
    }

    /// <summary>How token states are pooled.</summary>
    public PoolingStrategy Pooling { get; }

    /// <summary>Width of the pooled vector.</summary>
    public int HiddenSize { get; }

    /// <summary>Number of outputs.</summary>
    public int NumLabels { get; }

    /// <summary>Dropout applied to the pooled vector while training.</summary>
    public double DropoutProbability { get; }

    /// <summary>The adapters of the model this head belongs to: an adapter loaded before others keeps its own copy of the head.</summary>
    internal AdapterState? Adapters { get; set; }

    AdapterState? IHeadWithAdapters.Adapters { get => Adapters; set => Adapters = value; }

    /// <summary>The linear layer's weight [labels, hidden] (<c>classifier.weight</c>).</summary>
    public Parameter Weight => weight;

    /// <summary>The linear layer's bias [labels] (<c>classifier.bias</c>).</summary>
    public Parameter Bias => bias;

    /// <summary>Re-initialises the head (normal weight, zero bias): what a new head on a base checkpoint starts from.</summary>
    public void ResetParameters(double initializerRange = 0.02)
    {
        using var noGrad = no_grad();
        nn.init.normal_(weight, 0, initializerRange);
        nn.init.zeros_(bias);
        // Drawn from the global generator: a training run redraws it from its seed unless it is loaded or changed first.
        Modeling.UnseededInitialization.Register(this, 0, generator => Reset(initializerRange, generator));
    }

    /// <summary>Re-initialises the head from a generator seeded with <paramref name="seed"/> (torch's global generator is not touched).</summary>
    public void ResetParameters(double initializerRange, int seed)
    {
        using var noGrad = no_grad();
        // A CPU generator (TorchSharp's only kind), drawn on the CPU and copied: the same head on every device.
        using var generator = new Generator((ulong)seed);
        Reset(initializerRange, generator);
        Modeling.UnseededInitialization.Forget(this);
    }

    private void Reset(double initializerRange, Generator generator)
    {
        using var noGrad = no_grad();
        Runtime.DeviceRandom.NormalInPlace(weight, 0, initializerRange, generator);
        nn.init.zeros_(bias);
    }

    /// <summary>Pools the encoder's output into one vector per text, [batch, hidden].</summary>
    /// <param name="lastHiddenState">Token states [batch, seq, hidden].</param>
    /// <param name="pooledOutput">The pooler's output [batch, hidden]; needed for <see cref="PoolingStrategy.Pooler"/>.</param>
    /// <param name="attentionMask">1 for real tokens, 0 for padding [batch, seq]; <c>null</c> when nothing is padded.</param>
    /// <exception cref="InvalidOperationException">Pooler pooling was asked for but the encoder has no pooler.</exception>
    public Tensor Pool(Tensor lastHiddenState, Tensor? pooledOutput, Tensor? attentionMask) => Pooling == PoolingStrategy.Pooler
        ? pooledOutput?.alias() ?? throw new InvalidOperationException("The head pools with the pooler but the encoder has no pooler; build the encoder with a pooler or use PoolingStrategy.Mean.")
        : Pooled(lastHiddenState, attentionMask, Pooling);

    /// <summary>Pools token states [batch, seq, hidden] into [batch, hidden] by <paramref name="pooling"/> (not the pooler), over real tokens only.</summary>
    internal static Tensor Pooled(Tensor lastHiddenState, Tensor? attentionMask, PoolingStrategy pooling)
    {
        ArgumentNullException.ThrowIfNull(lastHiddenState);
        switch (pooling)
        {
            case PoolingStrategy.Cls:
                return lastHiddenState.select(1, 0);
            case PoolingStrategy.Max:
                if (attentionMask is null)
                {
                    return lastHiddenState.amax([1]);
                }

                using (var scope = NewDisposeScope())
                {
                    Tensor padding = attentionMask.to(ScalarType.Bool, lastHiddenState.device).logical_not().unsqueeze(-1);
                    return Runtime.HeldScalars.MaskedFill(lastHiddenState, padding, double.NegativeInfinity).amax([1]).MoveToOuterDisposeScope();
                }

            case PoolingStrategy.Mean:
                if (attentionMask is null)
                {
                    return lastHiddenState.mean([1]);
                }

                using (var scope = NewDisposeScope())
                {
                    Tensor mask = attentionMask.to(lastHiddenState.dtype, lastHiddenState.device).unsqueeze(-1);
                    Tensor summed = (lastHiddenState * mask).sum(1);
                    Tensor counts = Runtime.HeldScalars.ClampMin(mask.sum(1), 1e-9);
                    return (summed / counts).MoveToOuterDisposeScope();
                }

            default:
                throw new ArgumentOutOfRangeException(nameof(pooling), pooling, "The pooler's output comes from the encoder, not from token states.");
        }
    }

    /// <summary>Logits [batch, labels] from pooled vectors [batch, hidden] (dropout while training, then linear).</summary>
    public override Tensor forward(Tensor pooled)
    {
        ArgumentNullException.ThrowIfNull(pooled);
        using var scope = NewDisposeScope();
        IReadOnlyDictionary<string, Tensor>? copy = Adapters?.HeadCopy(Adapters.Current);
        return Linear(pooled, copy?["weight"] ?? weight, copy?["bias"] ?? bias).MoveToOuterDisposeScope();
    }

    /// <summary>This head's computation (dropout while training, then linear) with other weights: an adapter's copy of the head.</summary>
    internal Tensor Linear(Tensor pooled, Tensor weightValues, Tensor biasValues) => nn.functional.linear(dropout.call(pooled), weightValues, biasValues);
}
