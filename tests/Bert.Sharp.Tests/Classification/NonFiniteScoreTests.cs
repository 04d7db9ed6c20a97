using Bert.Sharp.Tests.Training;
using TorchSharp;

namespace Bert.Sharp.Tests.Classification;

/// <summary>
/// Issue 21 row 5: finite weights large enough to overflow the forward pass made every score NaN, served as label "0".
/// A non-finite score is refused instead of turned into a label.
/// </summary>
public class NonFiniteScoreTests
{
    private static readonly string[] Labels = ["negative", "positive"];

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void A_non_finite_score_is_refused_naming_the_label(float bad)
    {
        foreach (ProblemType type in Enum.GetValues<ProblemType>())
        {
            InvalidOperationException e = Assert.Throws<InvalidOperationException>(() => Prediction.FromScores(Labels, type, [0.2f, bad]));
            Assert.Contains("'positive'", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_model_whose_head_overflows_float32_is_refused_at_prediction_not_labelled()
    {
        using BertForSequenceClassification model = ToyData.Model(seed: 5);
        using var classifier = new TextClassifier(model, new ToyEncoder(), new TextClassifierOptions());
        Assert.True(float.IsFinite(classifier.Predict("good phone").Score));

        using (torch.no_grad())
        {
            // Finite weights whose products overflow (the hostile adapter row of the issue): the pooler saturates to 1 in
            // every dimension, and 32 × 3e38 is past float.MaxValue, so both logits are +Inf and softmax gives NaN.
            Parameter(model, "bert.pooler.dense.weight").zero_();
            Parameter(model, "bert.pooler.dense.bias").fill_(10f);
            Parameter(model, "classifier.weight").fill_(3e38f);
        }

        InvalidOperationException e = Assert.Throws<InvalidOperationException>(() => classifier.Predict("awful screen and poor battery"));
        Assert.Contains("overflows float32", e.Message, StringComparison.Ordinal);
    }

    private static torch.Tensor Parameter(BertForSequenceClassification model, string name) =>
        model.named_parameters().Single(p => p.name == name).parameter;
}
