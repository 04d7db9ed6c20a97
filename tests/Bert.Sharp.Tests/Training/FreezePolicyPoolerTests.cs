using Bert.Sharp.Tests.TestSupport;

namespace Bert.Sharp.Tests.Training;

public class FreezePolicyPoolerTests
{
    [Fact]
    public void A_pooler_the_head_does_not_read_is_never_trainable()
    {
        using var encoder = new BertModel(TinyConfigs.Bert());
        using var meanPooled = new BertForSequenceClassification(encoder, ["a", "b"], pooling: PoolingStrategy.Mean);
        foreach (FreezePolicy policy in new[] { FreezePolicy.FineTuneTopLayers(1), FreezePolicy.FullFineTuning() })
        {
            ParameterSummary summary = meanPooled.ApplyFreezePolicy(policy);
            Assert.All(meanPooled.named_parameters().Where(p => p.name.StartsWith("bert.pooler.", StringComparison.Ordinal)), p => Assert.False(p.parameter.requires_grad, p.name));
            Assert.True(summary.Trainable > 0);
        }
    }

    [Fact]
    public void A_pooler_the_head_reads_follows_the_policy()
    {
        using var model = new BertForSequenceClassification(TinyConfigs.Bert(), ["a", "b"]);
        Assert.Equal(PoolingStrategy.Pooler, model.Head.Pooling);
        model.ApplyFreezePolicy(FreezePolicy.FineTuneTopLayers(1));
        Assert.All(model.named_parameters().Where(p => p.name.StartsWith("bert.pooler.", StringComparison.Ordinal)), p => Assert.True(p.parameter.requires_grad, p.name));
        model.ApplyFreezePolicy(FreezePolicy.TransferLearning());
        Assert.All(model.named_parameters().Where(p => p.name.StartsWith("bert.pooler.", StringComparison.Ordinal)), p => Assert.False(p.parameter.requires_grad, p.name));
    }
}
