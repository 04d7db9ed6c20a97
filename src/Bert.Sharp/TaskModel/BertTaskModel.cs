using Bert.Sharp.Inference;
using Bert.Sharp.Training;
using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>
/// A BERT encoder with a task on top (<see cref="BertForSequenceClassification"/>, <see cref="BertForTokenClassification"/>,
/// <see cref="BertForSentenceEmbedding"/>): what <see cref="FineTuner"/> trains. Its <see cref="Units"/> are the encoder's
/// (embeddings, each layer, pooler) and the task's head; a <see cref="FreezePolicy"/> decides which of them learn.
/// </summary>
/// <remarks>The encoder's parameters are named <c>bert.*</c> and the head's after Hugging Face's task classes (<c>classifier.*</c>).</remarks>
public abstract partial class BertTaskModel : nn.Module
{
    // Not a module-typed field: the encoder is registered under its family's name (bert, roberta, distilbert), which
    // field-based registration would not give.
    private readonly System.Runtime.CompilerServices.StrongBox<BertModel> encoderBox;

    /// <summary>
    /// Puts a task on <paramref name="encoder"/>. A derived class creates its head, then calls <c>RegisterComponents()</c>
    /// so that the head's parameters are named after its field (<c>qa_outputs.weight</c>).
    /// </summary>
    /// <param name="name">The module's name (usually the class name).</param>
    /// <param name="encoder">The encoder (<c>bert.*</c>); owned by the new model from now on.</param>
    protected BertTaskModel(string name, BertModel encoder) : base(name)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        encoderBox = new(encoder);
        register_module(encoder.Family.BasePrefix, encoder);
        Adapters = new ModelAdapters(this);
    }

    /// <summary>The encoder (<c>bert.*</c>, <c>roberta.*</c> or <c>distilbert.*</c>, after its <see cref="BertModel.Family"/>).</summary>
    public BertModel Bert => encoderBox.Value!;

    /// <summary>The device the parameters live on.</summary>
    public Device Device => Bert.Device;

    /// <summary>
    /// The units from the input side: the encoder's embeddings, layers and pooler, then the head (when the task has one).
    /// A pooler the head does not read is listed with <see cref="ModelUnit.IsUsed"/> false.
    /// </summary>
    public IReadOnlyList<ModelUnit> Units
    {
        get
        {
            var units = new List<ModelUnit>(Bert.GetUnits(Bert.Family.BasePrefix, UsesPooler));
            if (HeadModule is { } head)
            {
                units.Add(new ModelUnit(HeadName, head, HeadPrefix) { Kind = ModelUnitKind.Head, Depth = units.Count });
            }

            return units;
        }
    }

    /// <summary>Counts trainable and frozen parameters, per unit.</summary>
    public ParameterSummary GetParameterSummary() => ParameterSummary.Of(Units);

    /// <summary>
    /// Applies <paramref name="policy"/> for epoch <paramref name="epoch"/>: prepares the model once (adapters, for policies that
    /// add them), then sets which parameters learn. This is what <see cref="FineTuner"/> does before each epoch; call it yourself
    /// only for your own training loop.
    /// </summary>
    public ParameterSummary ApplyFreezePolicy(FreezePolicy policy, int epoch = 0)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        policy.Prepare(this);
        return ApplyFreezePlan(policy.Plan(Units, epoch));
    }

    /// <summary>Sets <c>requires_grad</c> on every parameter as <paramref name="plan"/> says and returns the resulting counts.</summary>
    public ParameterSummary ApplyFreezePlan(FreezePlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        IReadOnlyList<ModelUnit> units = Units;
        foreach (ModelUnit unit in units)
        {
            foreach ((string name, TorchSharp.Modules.Parameter parameter) in unit.NamedParameters())
            {
                parameter.requires_grad = plan.IsTrainable(unit, name);
            }
        }

        return ParameterSummary.Of(units);
    }

    /// <summary>The head's attribute name (its parameters' prefix), e.g. <c>classifier</c>.</summary>
    protected virtual string HeadName => "classifier";

    /// <summary>The prefix of the head's parameter names: <see cref="HeadName"/>, or empty when the head spans several top-level modules (DistilBERT's <c>pre_classifier</c> and <c>classifier</c>).</summary>
    private protected virtual string HeadPrefix => HeadName;

    /// <summary>The head module, or <c>null</c> for a task without trainable head (sentence embeddings).</summary>
    protected abstract nn.Module? HeadModule { get; }

    /// <summary>Whether the task's forward reads the encoder's pooler (false by default: a head on the hidden states).</summary>
    protected virtual bool UsesPooler => false;
}
