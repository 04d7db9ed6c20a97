using Bert.Sharp.Tests.TestSupport;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace Bert.Sharp.Tests.Onnx;

/// <summary>
/// Same weights in, same numbers out: every kind of exported folder (real all-MiniLM-L6-v2 encoder), run by ONNX Runtime,
/// against Bert.Sharp running the folder it was exported from, on padded and ragged batches.
/// </summary>
[Collection(ExportedModelsGroup.Name)]
public sealed class OnnxExportConformanceTests(ExportedModelsFixture fixture, ITestOutputHelper output)
{
    private const float Tolerance = 1e-4f;

    [Theory]
    [InlineData("pooler", true)]
    [InlineData("mean", true)]
    [InlineData("pooler", false)]
    public void Sequence_classifier_logits_and_probabilities_match(string pooling, bool onnxRuntimeOperators)
    {
        string folder = pooling == "pooler" ? fixture.PoolerClassifier : fixture.MeanClassifier;
        string onnx = Path.Combine(folder, "model.onnx");
        using ExportedModelsFixture.ScratchFolder scratch = fixture.NewScratch($"standard-{pooling}");
        if (!onnxRuntimeOperators)
        {
            onnx = scratch.OnnxPath;
            OnnxExporter.Export(folder, onnx, new OnnxExportOptions { UseOnnxRuntimeOperators = false });
        }

        using var model = BertForSequenceClassification.FromPretrained(folder);
        Assert.Equal(pooling == "pooler" ? PoolingStrategy.Pooler : PoolingStrategy.Mean, model.Head.Pooling);
        using var session = new InferenceSession(onnx);
        foreach (OnnxTestBatch batch in OnnxTestBatch.All())
        {
            Dictionary<string, float[]> ort = batch.Run(session);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            (Tensor ids, Tensor mask, Tensor types) = batch.Tensors();
            Tensor logits = model.Logits(ids, mask, types);
            float logitDiff = MaxDiff(ort["logits"], logits);
            float probabilityDiff = MaxDiff(ort["probabilities"], logits.softmax(-1));
            output.WriteLine($"{pooling,-6} {(onnxRuntimeOperators ? "ORT ops " : "standard")} {batch.Name,-34} max|diff| logits {logitDiff:E2}, probabilities {probabilityDiff:E2}");
            Assert.True(logitDiff <= Tolerance, $"{batch.Name}: logits differ by {logitDiff}");
            Assert.True(probabilityDiff <= Tolerance, $"{batch.Name}: probabilities differ by {probabilityDiff}");
        }
    }

    [Fact]
    public void Token_classifier_logits_and_probabilities_match()
    {
        using var encoder = BertModel.FromPretrained(fixture.TokenClassifier);
        Dictionary<string, Tensor> head = Bert.Sharp.Checkpoints.SafeTensors.Load(Path.Combine(fixture.TokenClassifier, "model.safetensors"));
        using var session = new InferenceSession(Path.Combine(fixture.TokenClassifier, "model.onnx"));
        try
        {
            foreach (OnnxTestBatch batch in OnnxTestBatch.All())
            {
                Dictionary<string, float[]> ort = batch.Run(session);
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                (Tensor ids, Tensor mask, Tensor types) = batch.Tensors();
                Tensor hidden = encoder.Forward(ids, mask, types).LastHiddenState;
                Tensor logits = nn.functional.linear(hidden, head["classifier.weight"], head["classifier.bias"]);
                Tensor real = mask.to_type(ScalarType.Bool).unsqueeze(-1);
                float logitDiff = MaxDiff(ort["logits"], logits, real);
                float probabilityDiff = MaxDiff(ort["probabilities"], logits.softmax(-1), real);
                output.WriteLine($"token  {batch.Name,-34} max|diff| (real tokens) logits {logitDiff:E2}, probabilities {probabilityDiff:E2}");
                Assert.True(logitDiff <= Tolerance, $"{batch.Name}: logits differ by {logitDiff}");
                Assert.True(probabilityDiff <= Tolerance, $"{batch.Name}: probabilities differ by {probabilityDiff}");
            }
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
    public void Sentence_embedding_matches_masked_mean_pooling_and_l2_normalisation()
    {
        using var encoder = BertModel.FromPretrained(fixture.Embedder);
        using var session = new InferenceSession(Path.Combine(fixture.Embedder, "model.onnx"));
        foreach (OnnxTestBatch batch in OnnxTestBatch.All())
        {
            Dictionary<string, float[]> ort = batch.Run(session);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            (Tensor ids, Tensor mask, Tensor types) = batch.Tensors();
            Tensor hidden = encoder.Forward(ids, mask, types).LastHiddenState;
            Tensor weights = mask.to_type(ScalarType.Float32).unsqueeze(-1);
            Tensor mean = (hidden * weights).sum(1) / weights.sum(1).clamp_min(1e-9);
            Tensor expected = nn.functional.normalize(mean, p: 2, dim: 1);
            float embeddingDiff = MaxDiff(ort["sentence_embedding"], expected);
            float hiddenDiff = MaxDiff(ort["last_hidden_state"], hidden, mask.to_type(ScalarType.Bool).unsqueeze(-1));
            output.WriteLine($"embed  {batch.Name,-34} max|diff| sentence_embedding {embeddingDiff:E2}, last_hidden_state (real tokens) {hiddenDiff:E2}");
            Assert.True(embeddingDiff <= Tolerance, $"{batch.Name}: sentence_embedding differs by {embeddingDiff}");
            Assert.True(hiddenDiff <= Tolerance, $"{batch.Name}: last_hidden_state differs by {hiddenDiff}");
        }
    }

    [Fact]
    public void Base_model_last_hidden_state_and_pooler_output_match()
    {
        using var encoder = BertModel.FromPretrained(fixture.BaseModel);
        using var session = new InferenceSession(fixture.BaseOnnx);
        Assert.Equal(["last_hidden_state", "pooler_output"], session.OutputMetadata.Keys.Order());
        foreach (OnnxTestBatch batch in OnnxTestBatch.All())
        {
            Dictionary<string, float[]> ort = batch.Run(session);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            (Tensor ids, Tensor mask, Tensor types) = batch.Tensors();
            BertModelOutput result = encoder.Forward(ids, mask, types);
            float hiddenDiff = MaxDiff(ort["last_hidden_state"], result.LastHiddenState, mask.to_type(ScalarType.Bool).unsqueeze(-1));
            float pooledDiff = MaxDiff(ort["pooler_output"], result.PooledOutput!);
            output.WriteLine($"base   {batch.Name,-34} max|diff| last_hidden_state (real tokens) {hiddenDiff:E2}, pooler_output {pooledDiff:E2}");
            Assert.True(hiddenDiff <= Tolerance && pooledDiff <= Tolerance, $"{batch.Name}: {hiddenDiff}, {pooledDiff}");
        }
    }

    [Fact]
    public void Int8_export_stays_close_to_float32()
    {
        // Measured on the embedder's normalised sentence vectors (what every head reads), not on a random head's
        // probabilities, which magnify the error of near-tied classes arbitrarily. The held-out accuracy of a trained
        // classifier is measured by the sentiment sample (--export-onnx --int8: 90.0 % int8 vs 90.5 % float32).
        using ExportedModelsFixture.ScratchFolder scratchInt8Close = fixture.NewScratch("int8-close");
        string int8 = scratchInt8Close.OnnxPath;
        OnnxExporter.Export(fixture.Embedder, int8, new OnnxExportOptions { Quantization = OnnxQuantization.DynamicInt8 });
        using var fp32 = new InferenceSession(Path.Combine(fixture.Embedder, "model.onnx"));
        using var quantized = new InferenceSession(int8);
        double worstCosine = 1;
        int rows = 0;
        foreach (OnnxTestBatch batch in OnnxTestBatch.All())
        {
            float[] a = batch.Run(fp32)["sentence_embedding"], b = batch.Run(quantized)["sentence_embedding"];
            int width = a.Length / batch.Size;
            for (int r = 0; r < batch.Size; r++, rows++)
            {
                double dot = 0, na = 0, nb = 0;
                for (int i = r * width; i < (r + 1) * width; i++)
                {
                    dot += a[i] * b[i];
                    na += a[i] * a[i];
                    nb += b[i] * b[i];
                }

                worstCosine = Math.Min(worstCosine, dot / Math.Sqrt(na * nb));
            }
        }

        long fp32Size = new FileInfo(Path.Combine(fixture.Embedder, "model.onnx")).Length;
        long int8Size = new FileInfo(int8).Length;
        output.WriteLine($"int8 vs fp32 over {rows} texts: lowest cosine similarity of the sentence embeddings {worstCosine:F4}; file {int8Size:N0} vs {fp32Size:N0} bytes ({100.0 * int8Size / fp32Size:F1} %)");
        Assert.True(worstCosine >= 0.95, $"int8 sentence embeddings have cosine similarity {worstCosine} with float32");
        Assert.True(int8Size * 10 < fp32Size * 3, $"int8 file is {int8Size} bytes, float32 {fp32Size}");
    }

    // Max |a - b|, over the positions where real is true when given.
    private static float MaxDiff(float[] ort, Tensor expected, Tensor? real = null)
    {
        using var scope = NewDisposeScope();
        Tensor actual = tensor(ort, expected.shape);
        Tensor diff = (actual - expected).abs();
        if (real is not null)
        {
            diff = diff.masked_fill(real.logical_not(), 0);
        }

        return diff.max().item<float>();
    }
}
