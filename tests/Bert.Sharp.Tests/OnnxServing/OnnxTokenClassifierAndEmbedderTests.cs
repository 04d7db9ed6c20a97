using Bert.Sharp.Tests.Onnx;
using Bert.Sharp.TokenClassification;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.OnnxServing;

[Collection(ExportedModelsGroup.Name)]
public sealed class OnnxTokenClassifierAndEmbedderTests(ExportedModelsFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public void Token_classifier_entities_equal_the_aggregation_of_Bert_Sharp_probabilities()
    {
        using var onnx = OnnxTokenClassifier.FromPretrained(fixture.TokenClassifier, new OnnxClassifierOptions { Aggregation = AggregationStrategy.Simple });
        Assert.Equal(ExportedModelsFixture.TokenLabels, onnx.Labels);
        var tokenizer = BertTokenizer.FromPretrained(fixture.TokenClassifier);
        using var encoder = BertModel.FromPretrained(fixture.TokenClassifier);
        Dictionary<string, Tensor> head = Bert.Sharp.Checkpoints.SafeTensors.Load(Path.Combine(fixture.TokenClassifier, "model.safetensors"));
        try
        {
            IReadOnlyList<IReadOnlyList<Entity>> batch = onnx.PredictBatch(OnnxTextClassifierTests.Sentences);
            int entities = 0;
            for (int i = 0; i < OnnxTextClassifierTests.Sentences.Length; i++)
            {
                string text = OnnxTextClassifierTests.Sentences[i];
                BatchEncoding encoding = tokenizer.EncodeBatch([text], new EncodingOptions { Padding = PaddingStrategy.None });
                float[] probabilities;
                using (var scope = NewDisposeScope())
                using (no_grad())
                {
                    Tensor ids = tensor(encoding.InputIds[0].Select(x => (long)x).ToArray(), [1, encoding.InputIds[0].Length]);
                    Tensor hidden = encoder.Forward(ids).LastHiddenState;
                    probabilities = nn.functional.linear(hidden, head["classifier.weight"], head["classifier.bias"]).softmax(-1).data<float>().ToArray();
                }

                int k = ExportedModelsFixture.TokenLabels.Length;
                var tokens = encoding.InputIds[0].Select((id, t) => new TokenPrediction(tokenizer.IdToToken(id)!, encoding.Offsets[0][t].Start, encoding.Offsets[0][t].End,
                    encoding.SpecialTokensMask[0][t] == 1, tokenizer.IdToToken(id)!.StartsWith("##", StringComparison.Ordinal), probabilities[(t * k)..((t + 1) * k)])).ToList();
                IReadOnlyList<Entity> expected = EntityAggregator.Aggregate(text, tokens, ExportedModelsFixture.TokenLabels, AggregationStrategy.Simple);
                foreach (IReadOnlyList<Entity> actual in new[] { onnx.Predict(text), batch[i] })
                {
                    Assert.Equal(expected.Select(e => (e.Group, e.Text, e.Start, e.End)), actual.Select(e => (e.Group, e.Text, e.Start, e.End)));
                    Assert.All(expected.Zip(actual), p => Assert.Equal(p.First.Score, p.Second.Score, 1e-4f));
                }

                entities += expected.Count;
            }

            output.WriteLine($"{entities} entities over {OnnxTextClassifierTests.Sentences.Length} texts, all equal");
            Assert.True(entities > 0, "the seeded random head should tag something");
        }
        finally
        {
            foreach (Tensor t in head.Values)
            {
                t.Dispose();
            }
        }
    }

    [Fact]
    public void Sentence_embeddings_equal_masked_mean_pooling_and_l2_of_the_encoder()
    {
        using var onnx = OnnxSentenceEmbedder.FromPretrained(fixture.Embedder);
        Assert.Equal(384, onnx.Dimensions);
        var tokenizer = BertTokenizer.FromPretrained(fixture.Embedder);
        using var encoder = BertModel.FromPretrained(fixture.Embedder);
        float[][] embeddings = onnx.Embed(OnnxTextClassifierTests.Sentences);
        float worst = 0;
        for (int i = 0; i < embeddings.Length; i++)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            int[] ids = [.. tokenizer.Encode(OnnxTextClassifierTests.Sentences[i])];
            Tensor hidden = encoder.Forward(tensor(ids.Select(x => (long)x).ToArray(), [1, ids.Length])).LastHiddenState;
            float[] expected = nn.functional.normalize(hidden.mean([1]), p: 2, dim: 1).data<float>().ToArray();
            worst = Math.Max(worst, expected.Zip(embeddings[i], (a, b) => Math.Abs(a - b)).Max());
        }

        output.WriteLine($"max |diff| sentence embeddings vs Bert.Sharp {worst:E2}");
        Assert.True(worst <= 1e-4f, $"embeddings differ by {worst}");
    }
}
