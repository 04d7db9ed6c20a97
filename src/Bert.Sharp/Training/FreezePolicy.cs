using TorchSharp.Modules;

namespace Bert.Sharp;

/// <summary>
/// Which parameters of a <see cref="BertForSequenceClassification"/> learn and which stay frozen, possibly changing
/// with the epoch. The two ideas of transfer learning in one type:
/// <list type="bullet">
/// <item><see cref="TransferLearning"/>: the whole pretrained encoder is a frozen feature extractor; only the head on the
/// output side learns. Fastest (the trainer computes the features once), least data needed, lowest ceiling.</item>
/// <item><see cref="FineTuneTopLayers"/>: the top N encoder layers (near the output), the pooler and the head learn; the
/// layers near the input stay frozen. The usual middle ground.</item>
/// </list>
/// Also <see cref="FullFineTuning"/> (everything learns; best accuracy with enough data, slowest),
/// <see cref="FreezeEmbeddings"/>, <see cref="GradualUnfreezing"/> and <see cref="Custom"/>.
/// </summary>
/// <remarks>
/// Parameter names are Hugging Face's: <c>bert.embeddings.*</c>, <c>bert.encoder.layer.N.*</c> (N = 0 nearest the
/// input), <c>bert.pooler.*</c>, <c>classifier.*</c>. A frozen parameter gets <c>requires_grad = false</c>, no gradient
/// and no optimizer state.
/// </remarks>
public abstract class FreezePolicy
{
    private protected FreezePolicy()
    {
    }

    /// <summary>Whether the set of trainable parameters changes from epoch to epoch (gradual unfreezing).</summary>
    public virtual bool ChangesOverEpochs => false;

    /// <summary>
    /// Transfer learning: freeze the whole pretrained encoder (embeddings, every layer, pooler) and train only the
    /// classification head on its features. Use it with little data or little time, or to get a quick baseline.
    /// </summary>
    public static FreezePolicy TransferLearning() => new TopLayersPolicy(_ => 0, "transfer learning (encoder frozen, head only)");

    /// <summary>Another name for <see cref="TransferLearning"/>: the encoder is used as a fixed feature extractor.</summary>
    public static FreezePolicy FeatureExtraction() => TransferLearning();

    /// <summary>
    /// Fine-tuning: the top <paramref name="layers"/> encoder layers, the pooler and the head learn; the embeddings and
    /// the layers near the input stay frozen. One or two layers usually recover most of the gap to full fine-tuning at
    /// a fraction of the cost. <c>0</c> is <see cref="TransferLearning"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="layers"/> is negative.</exception>
    public static FreezePolicy FineTuneTopLayers(int layers)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(layers);
        return layers == 0 ? TransferLearning() : new TopLayersPolicy(_ => layers, $"fine-tune top {layers} layer(s) + pooler + head");
    }

    /// <summary>Everything learns (Hugging Face's default). Best accuracy given enough data; the slowest and largest optimizer state.</summary>
    public static FreezePolicy FullFineTuning() => new TopLayersPolicy(_ => int.MaxValue, "full fine-tuning");

    /// <summary>
    /// Everything but the embedding block learns. Use it when the vocabulary is large and the training set small: the
    /// embeddings are a large share of the parameters and overfit first.
    /// </summary>
    public static FreezePolicy FreezeEmbeddings() => new TopLayersPolicy(_ => int.MaxValue, "full fine-tuning with frozen embeddings", embeddingsAlwaysFrozen: true);

    /// <summary>
    /// Gradual unfreezing (ULMFiT): start with the top <paramref name="startLayers"/> layers trainable (0: the head
    /// only, as transfer learning) and unfreeze one more layer from the top every <paramref name="everyEpochs"/> epochs;
    /// once every layer learns, the embeddings follow. Use it to fine-tune deeply on little data without wrecking the
    /// pretrained features early on.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="everyEpochs"/> is not positive or <paramref name="startLayers"/> is negative.</exception>
    public static FreezePolicy GradualUnfreezing(int everyEpochs = 1, int startLayers = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(everyEpochs);
        ArgumentOutOfRangeException.ThrowIfNegative(startLayers);
        return new TopLayersPolicy(epoch => startLayers + (epoch / everyEpochs), $"gradual unfreezing (start {startLayers} layer(s), one more every {everyEpochs} epoch(s))", changes: true);
    }

    /// <summary>
    /// Your own rule: <paramref name="isTrainable"/> gets each parameter's full name (for example
    /// <c>bert.encoder.layer.3.attention.self.query.weight</c> or <c>classifier.bias</c>) and returns whether it learns.
    /// </summary>
    /// <param name="isTrainable">The rule; must be deterministic.</param>
    /// <param name="description">A name for logs.</param>
    public static FreezePolicy Custom(Func<string, bool> isTrainable, string? description = null)
    {
        ArgumentNullException.ThrowIfNull(isTrainable);
        return new CustomPolicy(isTrainable, description ?? "custom");
    }

    /// <summary>Whether the parameter named <paramref name="parameterName"/> learns in epoch <paramref name="epoch"/> (0-based) of a model with <paramref name="layerCount"/> encoder layers.</summary>
    public abstract bool IsTrainable(string parameterName, int layerCount, int epoch = 0);

    /// <summary>Sets <c>requires_grad</c> on every parameter of <paramref name="model"/> for epoch <paramref name="epoch"/> and returns the resulting counts.</summary>
    public ParameterSummary Apply(BertForSequenceClassification model, int epoch = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        int layers = model.Bert.Layers.Count;
        bool headReadsPooler = model.Head.Pooling == PoolingStrategy.Pooler;
        var named = model.named_parameters().ToList();
        foreach ((string name, Parameter parameter) in named)
        {
            // A pooler the head never reads gets no gradient: counting it as trainable would only mislead the summary.
            bool unusedPooler = !headReadsPooler && name.StartsWith("bert.pooler.", StringComparison.Ordinal);
            parameter.requires_grad = !unusedPooler && IsTrainable(name, layers, epoch);
        }

        return ParameterSummary.Of(named);
    }

    /// <summary>The first epoch (0-based) after <paramref name="epoch"/> whose trainable set differs, or <c>null</c>.</summary>
    internal int? NextChange(int epoch, int layerCount, IReadOnlyList<string> names, int maxEpochs)
    {
        if (!ChangesOverEpochs)
        {
            return null;
        }

        for (int e = epoch + 1; e < maxEpochs; e++)
        {
            if (names.Any(n => IsTrainable(n, layerCount, e) != IsTrainable(n, layerCount, epoch)))
            {
                return e;
            }
        }

        return null;
    }

    /// <summary>Where a parameter sits: -1 embeddings, 0..L-1 an encoder layer, L the pooler, L+1 the head (or anything else).</summary>
    internal static int Depth(string parameterName, int layerCount)
    {
        string n = parameterName.StartsWith("bert.", StringComparison.Ordinal) ? parameterName[5..] : parameterName;
        if (n.StartsWith("embeddings.", StringComparison.Ordinal))
        {
            return -1;
        }

        if (n.StartsWith("encoder.layer.", StringComparison.Ordinal))
        {
            int end = n.IndexOf('.', 14);
            if (end > 14 && int.TryParse(n.AsSpan(14, end - 14), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int layer))
            {
                return layer;
            }
        }

        return n.StartsWith("pooler.", StringComparison.Ordinal) ? layerCount : layerCount + 1;
    }

    private sealed class TopLayersPolicy(Func<int, int> trainableLayers, string description, bool embeddingsAlwaysFrozen = false, bool changes = false) : FreezePolicy
    {
        public override bool ChangesOverEpochs => changes;

        public override bool IsTrainable(string parameterName, int layerCount, int epoch = 0)
        {
            ArgumentNullException.ThrowIfNull(parameterName);
            int top = trainableLayers(epoch);
            int depth = Depth(parameterName, layerCount);
            if (depth > layerCount)
            {
                return true; // the head always learns
            }

            if (depth == layerCount)
            {
                return top > 0; // the pooler learns as soon as any layer does
            }

            if (depth == -1)
            {
                return !embeddingsAlwaysFrozen && top > layerCount;
            }

            return depth >= layerCount - top;
        }

        public override string ToString() => description;
    }

    private sealed class CustomPolicy(Func<string, bool> rule, string description) : FreezePolicy
    {
        public override bool IsTrainable(string parameterName, int layerCount, int epoch = 0) => rule(parameterName);

        public override string ToString() => description;
    }
}
