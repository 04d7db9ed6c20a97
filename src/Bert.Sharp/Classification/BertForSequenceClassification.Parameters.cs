namespace Bert.Sharp;

// Parameter counts and freezing at the level of the whole classifier.
public sealed partial class BertForSequenceClassification
{
    /// <summary>Counts trainable and frozen parameters of the encoder and the head, per part.</summary>
    public ParameterSummary GetParameterSummary() => ParameterSummary.Of(named_parameters());

    /// <summary>Applies <paramref name="policy"/> for epoch <paramref name="epoch"/> (what <see cref="FineTuner"/> does before each epoch).</summary>
    public ParameterSummary ApplyFreezePolicy(FreezePolicy policy, int epoch = 0)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return policy.Apply(this, epoch);
    }
}
