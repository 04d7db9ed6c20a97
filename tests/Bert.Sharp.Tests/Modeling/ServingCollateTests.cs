using Bert.Sharp.Inference;
using Bert.Sharp.Tests.Checkpoints;
using Bert.Sharp.Tests.TestSupport;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Modeling;

/// <summary>
/// The serving classes collate without an attention mask when no row is padded (one text, or texts of one length), so a
/// short text is not checked, summed and pooled against a mask of ones. What the model computes must not change: with
/// every pooling, and for token classification, the logits without a mask are those with the mask of ones.
/// </summary>
public sealed class ServingCollateTests
{
    private static readonly EncodedText[] Rows =
    [
        new([2, 17, 45, 3], [0, 0, 1, 1]),
        new([2, 9, 3], [0, 0, 0]),
        new([2, 33, 61, 3], [0, 0, 0, 0]),
    ];

    [Fact]
    public void Rows_of_one_length_get_no_mask_and_padded_rows_get_the_training_mask()
    {
        using var scope = NewDisposeScope();
        (Tensor ids, Tensor? mask, Tensor types) = TensorBatch.CollateForServing(Rows, [0, 2], 0, CPU);
        Assert.Null(mask);
        (Tensor trainingIds, Tensor trainingMask, Tensor trainingTypes) = TensorBatch.Collate(Rows, [0, 2], 0, CPU);
        Assert.True(TensorAssert.BitEqual(trainingIds, ids));
        Assert.True(TensorAssert.BitEqual(trainingTypes, types));
        Assert.True(trainingMask.all().item<bool>());

        (Tensor paddedIds, Tensor? paddedMask, _) = TensorBatch.CollateForServing(Rows, [0, 1], 0, CPU);
        (_, Tensor expectedMask, _) = TensorBatch.Collate(Rows, [0, 1], 0, CPU);
        Assert.NotNull(paddedMask);
        Assert.True(TensorAssert.BitEqual(expectedMask, paddedMask));
        Assert.Equal([2L, 4L], paddedIds.shape);
    }

    [Theory]
    [InlineData(PoolingStrategy.Mean)]
    [InlineData(PoolingStrategy.Max)]
    [InlineData(PoolingStrategy.Cls)]
    [InlineData(PoolingStrategy.Pooler)]
    public void A_sequence_classifier_gives_the_same_logits_without_a_mask_as_with_a_mask_of_ones(PoolingStrategy pooling)
    {
        using var model = SeededWeights.Apply(new BertForSequenceClassification(TinyConfigs.Bert(), ["a", "b", "c"], pooling: pooling), 3, initializerRange: 0.2);
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor ids = tensor(new long[,] { { 2, 17, 45, 3 }, { 2, 33, 61, 3 } });
        Tensor logits = model.Logits(ids, ones_like(ids), null);
        Assert.True(logits.abs().max().item<float>() > 0.1f, "logits too small to compare");
        AssertClose(logits, model.Logits(ids, null, null));
    }

    [Fact]
    public void A_token_classifier_gives_the_same_logits_without_a_mask_as_with_a_mask_of_ones()
    {
        using var model = SeededWeights.Apply(new BertForTokenClassification(TinyConfigs.Bert(), ["O", "B-X", "I-X"]), 4, initializerRange: 0.2);
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor ids = tensor(new long[,] { { 2, 17, 45, 3 } });
        AssertClose(model.Logits(ids, ones_like(ids), null), model.Logits(ids, null, null));
    }

    private static void AssertClose(Tensor expected, Tensor actual) =>
        Assert.True(expected.allclose(actual, rtol: 0, atol: 1e-6), $"largest difference {(expected - actual).abs().max().item<float>():E2}");
}
