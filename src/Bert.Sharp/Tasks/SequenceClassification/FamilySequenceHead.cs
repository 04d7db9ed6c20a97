using Bert.Sharp.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>
/// The layers a family's sequence classification head has before its final linear layer (a <see cref="ClassificationHead"/>
/// over the first token), named as Hugging Face names them:
/// RoBERTa's <c>RobertaClassificationHead</c> (<c>classifier.dense</c>, tanh, <c>classifier.out_proj</c>, dropout before each)
/// DistilBERT's <c>pre_classifier</c> + ReLU before <c>classifier</c>, and ModernBERT's <c>head.dense</c>, activation,
/// <c>head.norm</c> before <c>classifier</c> (over the pooled vector: first token or mean, per <c>classifier_pooling</c>).
/// </summary>
/// <remarks>
/// For RoBERTa the task model registers this module as <c>classifier</c>; for DistilBERT it registers the two children
/// (<c>pre_classifier</c>, <c>classifier</c>) itself and this module only groups them as the head unit; likewise ModernBERT's
/// <c>head</c> and <c>classifier</c>.
/// </remarks>
internal sealed class FamilySequenceHead : nn.Module<Tensor, Tensor>, Sharp.Adapters.IHeadWithAdapters
{
    private readonly BertLinear projection;
    private readonly ClassificationHead output;
    private readonly FastDropout? inputDropout;
    private readonly ModernBertPredictionHead? predictionHead;

    /// <summary>ModernBERT's head: <c>head.dense</c>, activation, <c>head.norm</c> (<see cref="ModernBertPredictionHead"/>), then <paramref name="output"/> (dropout, <c>classifier</c>).</summary>
    public FamilySequenceHead(ClassificationHead output, BertConfig config) : base(nameof(FamilySequenceHead))
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(config);
        Layout = SequenceHeadLayout.PredictionHead;
        predictionHead = new ModernBertPredictionHead(config, ModernBertSettings.Read(config));
        projection = predictionHead.Dense;
        this.output = output;
        register_module(PredictionHeadName, predictionHead);
        register_module("classifier", output);
        ResetParameters(config.InitializerRange, seed: null);
    }

    public FamilySequenceHead(SequenceHeadLayout layout, ClassificationHead output, int hiddenSize, double dropout) : base(nameof(FamilySequenceHead))
    {
        ArgumentNullException.ThrowIfNull(output);
        if (layout is SequenceHeadLayout.Linear or SequenceHeadLayout.PredictionHead)
        {
            throw new ArgumentException($"The {layout} head is built by another constructor.", nameof(layout));
        }

        Layout = layout;
        projection = new BertLinear(hiddenSize, hiddenSize);
        this.output = output;
        if (layout == SequenceHeadLayout.DenseTanhOutProjection)
        {
            inputDropout = new FastDropout(dropout);
            register_module("dense", projection);
            register_module("out_proj", output);
        }
        else
        {
            register_module(PreClassifierName, projection);
            register_module("classifier", output);
        }

        ResetParameters(0.02, seed: null);
    }

    /// <summary>Re-initialises the projection as Hugging Face does (normal(0, range) weight, zero bias); from <paramref name="seed"/> when given.</summary>
    public void ResetParameters(double initializerRange, int? seed)
    {
        using var noGrad = no_grad();
        if (seed is int value)
        {
            using var generator = new Generator(unchecked((ulong)value + ProjectionSeedSalt));
            Reset(initializerRange, generator);
            UnseededInitialization.Forget(projection);
        }
        else
        {
            nn.init.normal_(projection.Weight, 0, initializerRange);
            if (projection.Bias is not null)
            {
                nn.init.zeros_(projection.Bias);
            }

            // Drawn from the global generator: a training run redraws it from its seed (as it does the final layer) unless it is loaded or changed first.
            UnseededInitialization.Register(projection, ProjectionSeedSalt, generator => Reset(initializerRange, generator));
        }
    }

    // Added to the seed for the projection, so it does not draw the same values as the final layer (which takes the seed itself).
    private const ulong ProjectionSeedSalt = 1;

    private void Reset(double initializerRange, Generator generator)
    {
        using var noGrad = no_grad();
        Runtime.DeviceRandom.NormalInPlace(projection.Weight, 0, initializerRange, generator);
        if (projection.Bias is not null)
        {
            nn.init.zeros_(projection.Bias);
        }
    }

    /// <summary>Submodules are registered by name in the constructor (names depend on the family); field-based registration would add them twice.</summary>
    protected override void RegisterComponents()
    {
    }

    /// <summary>DistilBERT's name of the projection, a top-level module of the task model.</summary>
    public const string PreClassifierName = "pre_classifier";

    /// <summary>ModernBERT's name of the prediction head (<c>head.dense</c>, <c>head.norm</c>), a top-level module of the task model.</summary>
    public const string PredictionHeadName = "head";

    /// <summary>ModernBERT's prediction head, or <c>null</c> for the other layouts.</summary>
    internal ModernBertPredictionHead? PredictionHead => predictionHead;

    public SequenceHeadLayout Layout { get; }

    /// <summary>The adapters of the model this head belongs to: an adapter loaded before others keeps its own copy of the head (<c>dense.*</c>, <c>out_proj.*</c>; <c>pre_classifier.*</c>, <c>classifier.*</c>).</summary>
    internal Adapters.AdapterState? Adapters { get; set; }

    Adapters.AdapterState? Sharp.Adapters.IHeadWithAdapters.Adapters { get => Adapters; set => Adapters = value; }

    /// <summary>The projection before the final layer (<c>classifier.dense</c> or <c>pre_classifier</c>).</summary>
    public BertLinear Projection => projection;

    /// <summary>The key of the final layer's weight in the task model's state dict.</summary>
    public string OutputWeightKey => Layout == SequenceHeadLayout.DenseTanhOutProjection ? "classifier.out_proj.weight" : "classifier.weight";

    /// <summary>Logits from the pooled state [batch, hidden] (the first token's; ModernBERT's mean when it pools by mean).</summary>
    public override Tensor forward(Tensor first)
    {
        ArgumentNullException.ThrowIfNull(first);
        using var scope = NewDisposeScope();
        IReadOnlyDictionary<string, Tensor>? copy = Adapters?.HeadCopy(Adapters.Current);
        if (copy is not null && Layout == SequenceHeadLayout.DenseTanhOutProjection)
        {
            // Another adapter's head (PEFT's modules_to_save copy): Hugging Face's RobertaClassificationHead on its values,
            // one dropout before each linear layer.
            Tensor dense = nn.functional.linear(inputDropout!.call(first), copy["dense.weight"], copy["dense.bias"]).tanh();
            return nn.functional.linear(inputDropout.call(dense), copy["out_proj.weight"], copy["out_proj.bias"]).MoveToOuterDisposeScope();
        }

        if (copy is not null && Layout == SequenceHeadLayout.PreClassifierRelu)
        {
            // DistilBERT: the adapter's copies of pre_classifier and classifier (PEFT saves both as modules_to_save).
            Tensor hidden = nn.functional.relu(nn.functional.linear(first, copy[PreClassifierName + ".weight"], copy[PreClassifierName + ".bias"]));
            return output.Linear(hidden, copy["classifier.weight"], copy["classifier.bias"]).MoveToOuterDisposeScope();
        }

        if (predictionHead is not null)
        {
            return output.call(predictionHead.call(first)).MoveToOuterDisposeScope();
        }

        Tensor projected = Layout == SequenceHeadLayout.DenseTanhOutProjection
            ? projection.call(inputDropout!.call(first)).tanh()
            : nn.functional.relu(projection.call(first));
        return output.call(projected).MoveToOuterDisposeScope();
    }
}
