namespace Bert.Sharp;

/// <summary>
/// Which parts of a model learn and which stay frozen, possibly changing with the epoch. The two ideas of transfer learning
/// in one type:
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
/// A policy looks at the model's <see cref="ModelUnit"/>s (embeddings, each encoder layer, pooler, head — input side first)
/// and returns a <see cref="FreezePlan"/> for an epoch. Write your own by deriving from this class and overriding
/// <see cref="Plan"/> (and <see cref="Prepare"/> when the policy adds modules, as adapters do). A frozen parameter gets
/// <c>requires_grad = false</c>, no gradient and no optimizer state.
/// </remarks>
public abstract class FreezePolicy
{
    /// <summary>Creates a policy.</summary>
    protected FreezePolicy()
    {
    }

    /// <summary>Whether the plan changes from epoch to epoch (gradual unfreezing).</summary>
    public virtual bool ChangesOverEpochs => false;

    /// <summary>
    /// Transfer learning: freeze the whole pretrained encoder (embeddings, every layer, pooler) and train only the head on its
    /// features. Use it with little data or little time, or to get a quick baseline.
    /// </summary>
    public static FreezePolicy TransferLearning() => new TopLayersPolicy(_ => 0, "transfer learning (encoder frozen, head only)");

    /// <summary>Another name for <see cref="TransferLearning"/>: the encoder is used as a fixed feature extractor.</summary>
    public static FreezePolicy FeatureExtraction() => TransferLearning();

    /// <summary>
    /// Fine-tuning: the top <paramref name="layers"/> encoder layers, the pooler (when the head reads it) and the head learn; the embeddings and the
    /// layers near the input stay frozen. One or two layers usually recover most of the gap to full fine-tuning at a fraction
    /// of the cost. <c>0</c> is <see cref="TransferLearning"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="layers"/> is negative.</exception>
    public static FreezePolicy FineTuneTopLayers(int layers)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(layers);
        return layers == 0 ? TransferLearning() : new TopLayersPolicy(_ => layers, $"fine-tune top {layers} layer(s) + head");
    }

    /// <summary>Everything learns (Hugging Face's default). Best accuracy given enough data; the slowest and largest optimizer state.</summary>
    public static FreezePolicy FullFineTuning() => new TopLayersPolicy(_ => int.MaxValue, "full fine-tuning");

    /// <summary>
    /// Everything but the embedding block learns. Use it when the vocabulary is large and the training set small: the
    /// embeddings are a large share of the parameters and overfit first.
    /// </summary>
    public static FreezePolicy FreezeEmbeddings() => new TopLayersPolicy(_ => int.MaxValue, "full fine-tuning with frozen embeddings", embeddingsAlwaysFrozen: true);

    /// <summary>
    /// Gradual unfreezing (ULMFiT): start with the top <paramref name="startLayers"/> layers trainable (0: the head only, as
    /// transfer learning) and unfreeze one more layer from the top every <paramref name="everyEpochs"/> epochs; once every
    /// layer learns, the embeddings follow. Use it to fine-tune deeply on little data without wrecking the pretrained
    /// features early on.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="everyEpochs"/> is not positive or <paramref name="startLayers"/> is negative.</exception>
    public static FreezePolicy GradualUnfreezing(int everyEpochs = 1, int startLayers = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(everyEpochs);
        ArgumentOutOfRangeException.ThrowIfNegative(startLayers);
        return new TopLayersPolicy(epoch => startLayers + (epoch / everyEpochs), $"gradual unfreezing (start {startLayers} layer(s), one more every {everyEpochs} epoch(s))", changes: true);
    }

    /// <summary>
    /// Your own rule by name: <paramref name="isTrainable"/> gets each parameter's full name (for example
    /// <c>bert.encoder.layer.3.attention.self.query.weight</c> or <c>classifier.bias</c>) and returns whether it learns. To
    /// decide by unit instead, derive from <see cref="FreezePolicy"/>.
    /// </summary>
    /// <param name="isTrainable">The rule; must be deterministic.</param>
    /// <param name="description">A name for logs.</param>
    public static FreezePolicy Custom(Func<string, bool> isTrainable, string? description = null)
    {
        ArgumentNullException.ThrowIfNull(isTrainable);
        return new CustomPolicy(isTrainable, description ?? "custom");
    }

    /// <summary>
    /// Low-rank adaptation (LoRA, PEFT's semantics): every base weight stays frozen; each targeted dense layer gets a pair A
    /// [<paramref name="rank"/>, in] (Kaiming-uniform) and B [out, <paramref name="rank"/>] (zeros) whose product, scaled by
    /// <paramref name="alpha"/> / <paramref name="rank"/>, is added to its output; the pairs, the head and
    /// <paramref name="modulesToSave"/> learn — about 1 % of the weights. One base model then serves many tasks, each a small
    /// adapter file (<see cref="ModelAdapters.Save"/>, PEFT's layout), or the adapter is folded in for serving
    /// (<see cref="ModelAdapters.Merge"/>). LoRA usually wants a higher learning rate than fine-tuning (5e-4 to 1e-3).
    /// </summary>
    /// <param name="rank">The rank r of the update.</param>
    /// <param name="alpha">The scale numerator (<c>lora_alpha</c>).</param>
    /// <param name="dropout">Dropout on the adapters' input.</param>
    /// <param name="targets">The dense layers that get adapters; query and value by default.</param>
    /// <param name="modulesToSave">Further modules trained whole and saved with the adapter (state-dict names, e.g. <c>bert.pooler</c>); the head always is.</param>
    /// <exception cref="ArgumentException">A value is out of range (see <see cref="LoraOptions.Validate"/>).</exception>
    public static FreezePolicy LoRA(int rank = 8, double alpha = 16, double dropout = 0.1, LoraTargets targets = LoraTargets.Default, IReadOnlyList<string>? modulesToSave = null) =>
        LoRA(new LoraOptions { Rank = rank, Alpha = alpha, Dropout = dropout, Targets = targets, ModulesToSave = modulesToSave ?? [] });

    /// <summary>LoRA with all of PEFT's <c>LoraConfig</c> settings in <paramref name="options"/>, as adapter <paramref name="adapterName"/>.</summary>
    /// <inheritdoc cref="LoRA(int, double, double, LoraTargets, IReadOnlyList{string}?)"/>
    public static FreezePolicy LoRA(LoraOptions options, string adapterName = "default")
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(adapterName);
        options.Validate();
        return new LoraPolicy(options, adapterName);
    }

    /// <summary>The plan for epoch <paramref name="epoch"/> (0-based) of a model with these <paramref name="units"/> (input side first).</summary>
    public abstract FreezePlan Plan(IReadOnlyList<ModelUnit> units, int epoch);

    /// <summary>
    /// Prepares <paramref name="model"/> before its first plan, for policies that add modules (adapters). Called before every
    /// plan is applied: it must do its work once and then nothing. The default does nothing.
    /// </summary>
    public virtual void Prepare(BertTaskModel model)
    {
    }

    /// <summary>Prepares <paramref name="model"/> for a training run seeded with <paramref name="seed"/> (adapters start from it).</summary>
    internal virtual void PrepareForRun(BertTaskModel model, int seed) => Prepare(model);

    /// <summary>The first epoch (0-based) after <paramref name="epoch"/> whose plan differs, or <c>null</c>.</summary>
    internal int? NextChange(int epoch, IReadOnlyList<ModelUnit> units, int maxEpochs)
    {
        if (!ChangesOverEpochs)
        {
            return null;
        }

        FreezePlan current = Plan(units, epoch);
        for (int e = epoch + 1; e < maxEpochs; e++)
        {
            FreezePlan next = Plan(units, e);
            if (units.Any(u => u.NamedParameters().Any(p => next.IsTrainable(u, p.Name) != current.IsTrainable(u, p.Name))))
            {
                return e;
            }
        }

        return null;
    }

    private sealed class TopLayersPolicy(Func<int, int> trainableLayers, string description, bool embeddingsAlwaysFrozen = false, bool changes = false) : FreezePolicy
    {
        public override bool ChangesOverEpochs => changes;

        public override FreezePlan Plan(IReadOnlyList<ModelUnit> units, int epoch)
        {
            ArgumentNullException.ThrowIfNull(units);
            int layerCount = units.Count(u => u.Kind == ModelUnitKind.EncoderLayer);
            int top = trainableLayers(epoch);
            bool Trains(ModelUnit unit) => unit.Kind switch
            {
                ModelUnitKind.Head => true,
                ModelUnitKind.Pooler => top > 0, // the pooler learns as soon as any layer does
                ModelUnitKind.Embeddings => !embeddingsAlwaysFrozen && top > layerCount,
                _ => unit.LayerIndex >= layerCount - top,
            };
            return FreezePlan.TrainUnits(units.Where(Trains), description);
        }

        public override string ToString() => description;
    }

    private sealed class CustomPolicy(Func<string, bool> rule, string description) : FreezePolicy
    {
        public override FreezePlan Plan(IReadOnlyList<ModelUnit> units, int epoch) => new((_, name) => rule(name), description);

        public override string ToString() => description;
    }
}
