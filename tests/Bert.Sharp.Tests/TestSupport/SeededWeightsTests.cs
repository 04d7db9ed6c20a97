using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.TestSupport;

/// <summary>The toy test set-up is the same in every process: model weights and toy token ids.</summary>
public sealed class SeededWeightsTests
{
    [Fact]
    public void The_same_seed_gives_the_same_weights_whatever_the_global_generator_did()
    {
        // No manual_seed here: reseeding the process-wide generator would disturb tests running in parallel. Each
        // constructor draws from it anyway (and so do those tests), so the two models start from different global draws.
        using var first = SeededWeights.Apply(new BertForSentenceEmbedding(new BertModel(TinyConfigs.Bert(), addPoolingLayer: false)), 21);
        using Tensor noise = randn(1000);
        using var second = SeededWeights.Apply(new BertForSentenceEmbedding(new BertModel(TinyConfigs.Bert(), addPoolingLayer: false)), 21);
        var a = first.named_parameters().ToList();
        var b = second.named_parameters().ToList();
        Assert.Equal(a.Count, b.Count);
        for (int i = 0; i < a.Count; i++)
        {
            Assert.True(a[i].parameter.equal(b[i].parameter).all().item<bool>(), a[i].name);
        }
    }

    [Fact]
    public void Toy_token_ids_are_fixed_across_processes()
    {
        // Pinned values: a per-process randomised hash (string.GetHashCode) made toy tests differ from run to run.
        Assert.Equal(48, Training.ToyEncoder.Id("battery"));
        Assert.Equal(70, Training.ToyEncoder.Id("the"));
        Assert.Equal(10, Training.ToyEncoder.Id("good"));
    }
}
