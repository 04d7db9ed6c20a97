using Bert.Sharp.Checkpoints;
using Bert.Sharp.Tests.Checkpoints;
using Bert.Sharp.Tests.TestSupport;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp;
using Tensor = TorchSharp.torch.Tensor;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Conformance;

/// <summary>
/// Same weights in, same numbers out: all-MiniLM-L6-v2 imported from its ONNX export and run by Bert.Sharp, against
/// ONNX Runtime running the original ONNX file.
/// </summary>
public sealed class OnnxRuntimeConformanceTests(MiniLmImportFixture fixture, ITestOutputHelper output) : IClassFixture<MiniLmImportFixture>
{
    private const float Tolerance = 1e-4f;

    /// <summary>One batch: ids, mask, token types as [batch, seq] row-major arrays.</summary>
    private sealed record Batch(string Name, int Size, int Length, long[] Ids, long[] Mask, long[] Types);

    [Theory]
    [InlineData("eager")]
    [InlineData("sdpa")]
    public void Forward_matches_onnx_runtime(string attention)
    {
        using var model = BertModel.FromPretrained(fixture.Directory, new BertLoadOptions { Strict = true, AttentionImplementation = attention });
        Assert.False(model.training);
        float worstHidden = 0, worstPooled = 0;
        foreach (Batch batch in Batches())
        {
            (float[] refHidden, float[] refPooled) = RunOnnxRuntime(batch);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            Tensor ids = tensor(batch.Ids, [batch.Size, batch.Length]);
            Tensor mask = tensor(batch.Mask, [batch.Size, batch.Length]);
            Tensor types = tensor(batch.Types, [batch.Size, batch.Length]);
            BertModelOutput result = model.Forward(ids, mask, types);
            Tensor expectedHidden = tensor(refHidden, [batch.Size, batch.Length, 384]);
            Tensor expectedPooled = tensor(refPooled, [batch.Size, 384]);

            Tensor realTokens = mask.to_type(ScalarType.Bool).unsqueeze(-1);
            Tensor hiddenDiff = (result.LastHiddenState - expectedHidden).abs();
            float hiddenReal = hiddenDiff.masked_fill(realTokens.logical_not(), 0).max().item<float>();
            float hiddenAll = hiddenDiff.max().item<float>();
            float pooled = (result.PooledOutput! - expectedPooled).abs().max().item<float>();
            output.WriteLine($"{attention,-5} {batch.Name,-34} max|diff| last_hidden_state (real tokens) {hiddenReal:E2}, (all positions) {hiddenAll:E2}; pooler_output {pooled:E2}");
            Assert.True(hiddenReal <= Tolerance, $"{attention} {batch.Name}: last_hidden_state max |diff| {hiddenReal} > {Tolerance}");
            Assert.True(pooled <= Tolerance, $"{attention} {batch.Name}: pooler output max |diff| {pooled} > {Tolerance}");
            worstHidden = Math.Max(worstHidden, hiddenReal);
            worstPooled = Math.Max(worstPooled, pooled);
        }

        output.WriteLine($"{attention}: worst max|diff| last_hidden_state {worstHidden:E2}, pooler_output {worstPooled:E2} (tolerance {Tolerance:E0}); import took {fixture.ImportTime.TotalSeconds:F1} s");
    }

    [Fact]
    public void Imported_config_and_tokenizer_files_describe_all_MiniLM_L6_v2()
    {
        BertConfig config = BertConfig.Load(fixture.Directory);
        Assert.Equal(6, config.NumHiddenLayers);
        Assert.Equal(384, config.HiddenSize);
        Assert.Equal(12, config.NumAttentionHeads);
        Assert.Equal(1536, config.IntermediateSize);
        Assert.Equal(30522, config.VocabSize);
        Assert.Equal(512, config.MaxPositionEmbeddings);
        Assert.Equal(2, config.TypeVocabSize);
        Assert.Equal(1e-12, config.LayerNormEps, 1e-18);
        Assert.Equal("gelu", config.HiddenAct);
        Assert.Equal(File.ReadAllBytes(TestAssets.UncasedVocabPath), File.ReadAllBytes(Path.Combine(fixture.Directory, "vocab.txt")));
        using var tokenizerConfig = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(fixture.Directory, "tokenizer_config.json")));
        Assert.True(tokenizerConfig.RootElement.GetProperty("do_lower_case").GetBoolean());
        Assert.Equal(512, tokenizerConfig.RootElement.GetProperty("model_max_length").GetInt32());
        Assert.Equal("BertTokenizer", tokenizerConfig.RootElement.GetProperty("tokenizer_class").GetString());
        Assert.Equal("[CLS]", tokenizerConfig.RootElement.GetProperty("cls_token").GetString());
        var keys = SafeTensors.ReadHeader(Path.Combine(fixture.Directory, "model.safetensors")).Entries.Select(e => e.Name).ToHashSet();
        Assert.Equal(5 + (6 * 16) + 2, keys.Count);
        Assert.Contains("encoder.layer.5.attention.self.query.weight", keys);
        Assert.Contains("pooler.dense.weight", keys);
    }

    [Fact]
    public void SavePretrained_round_trip_of_the_imported_model_is_bit_exact()
    {
        string copy = TestTemp.NewDirectory("minilm-copy");
        try
        {
            using var model = BertModel.FromPretrained(fixture.Directory, new BertLoadOptions { Strict = true });
            model.SavePretrained(copy);
            using var again = BertModel.FromPretrained(copy, new BertLoadOptions { Strict = true });
            Batch batch = Batches().First();
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            Tensor ids = tensor(batch.Ids, [batch.Size, batch.Length]);
            Tensor mask = tensor(batch.Mask, [batch.Size, batch.Length]);
            Tensor types = tensor(batch.Types, [batch.Size, batch.Length]);
            BertModelOutput a = model.Forward(ids, mask, types);
            BertModelOutput b = again.Forward(ids, mask, types);
            Assert.True(TensorAssert.BitEqual(a.LastHiddenState, b.LastHiddenState));
            Assert.True(TensorAssert.BitEqual(a.PooledOutput!, b.PooledOutput!));
            Assert.Equal(File.ReadAllBytes(Path.Combine(fixture.Directory, "model.safetensors")), File.ReadAllBytes(Path.Combine(copy, "model.safetensors")));
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    private (float[] Hidden, float[] Pooled) RunOnnxRuntime(Batch batch)
    {
        int[] dims = [batch.Size, batch.Length];
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(batch.Ids, dims)),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(batch.Mask, dims)),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(batch.Types, dims)),
        };
        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results = fixture.Session.Run(inputs);
        float[] hidden = results.Single(r => r.Name == "last_hidden_state").AsTensor<float>().ToArray();
        float[] pooled = results.Single(r => r.Name == fixture.PoolerOutputName).AsTensor<float>().ToArray();
        return (hidden, pooled);
    }

    // Random ids with [CLS] ... [SEP], right padding, a second segment with token type 1.
    private static IEnumerable<Batch> Batches()
    {
        var random = new Random(20240531);
        yield return Make("ragged 4x32 (lengths 32,21,9,3)", 32, [32, 21, 9, 3]);
        yield return Make("ragged 2x128 (lengths 128,64)", 128, [128, 64]);
        yield return Make("single 1x7 (no padding)", 7, [7]);
        yield return Make("ragged 8x16 (random lengths)", 16, Enumerable.Range(0, 8).Select(_ => random.Next(2, 17)).ToArray());

        Batch Make(string name, int length, int[] lengths)
        {
            int size = lengths.Length;
            var ids = new long[size * length];
            var mask = new long[size * length];
            var types = new long[size * length];
            for (int b = 0; b < size; b++)
            {
                int real = lengths[b];
                int secondSegment = real > 3 ? real / 2 : real;
                for (int t = 0; t < real; t++)
                {
                    int i = (b * length) + t;
                    ids[i] = t == 0 ? 101 : t == real - 1 ? 102 : random.Next(1000, 30522);
                    mask[i] = 1;
                    types[i] = t >= secondSegment ? 1 : 0;
                }
            }

            return new Batch(name, size, length, ids, mask, types);
        }
    }
}
