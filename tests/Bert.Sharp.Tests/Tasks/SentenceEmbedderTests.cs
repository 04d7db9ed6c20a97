using Microsoft.Extensions.AI;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit.Abstractions;

namespace Bert.Sharp.Tests.Tasks;

/// <summary>
/// <see cref="SentenceEmbedder"/> on the packaged all-MiniLM-L6-v2 gives sentence-transformers' vectors: ONNX Runtime
/// running the original ONNX export, then mean pooling over real tokens and L2 normalisation (what the model's
/// <c>modules.json</c> prescribes), computed here by hand. Also its <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> face.
/// </summary>
public sealed class SentenceEmbedderTests(MiniLmEmbedderFixture fixture, ITestOutputHelper output) : IClassFixture<MiniLmEmbedderFixture>
{
    private const float Tolerance = 1e-5f;

    // Ragged lengths (so batches are padded, and unpadded where Auto decides to), accents, punctuation, a long one.
    private static readonly string[] Texts =
    [
        "The battery lasts all day.",
        "Great phone!",
        "Verizon's coverage in Los Angeles is poor; the Motorola Razr dropped calls twice a day, every day, for a whole month.",
        "Ça coûte trop cher.",
        "ok",
        "I would not buy this headset again, the earpiece broke after a week and customer service never answered.",
        "東京で買いました",
    ];

    [Fact]
    public void Bfloat16_embeddings_point_the_same_way_as_float32_and_float16_is_refused_on_the_cpu()
    {
        // bf16 keeps 8 significant bits per GEMM input; over 6 layers the vectors stay within a small angle of fp32's.
        using SentenceEmbedder bf16 = SentenceEmbedder.FromPretrained(fixture.Directory, new SentenceEmbeddingOptions { BatchSize = 4, Precision = InferencePrecision.BFloat16 });
        Assert.Equal(InferencePrecision.Float32, fixture.Embedder.Precision);
        Assert.Equal(InferencePrecision.BFloat16, bf16.Precision);
        float[][] reference = fixture.Embedder.Embed(Texts);
        float[][] reduced = bf16.Embed(Texts);
        for (int i = 0; i < Texts.Length; i++)
        {
            float cosine = reference[i].Zip(reduced[i], (a, b) => a * b).Sum(); // both unit length
            output.WriteLine($"#{i} cosine bf16 vs fp32 {cosine:F5}");
            Assert.InRange(cosine, 0.99f, 1.0001f);
            Assert.NotEqual(reference[i], reduced[i]); // really computed in bf16
        }

        var error = Assert.Throws<ArgumentException>(() => SentenceEmbedder.FromPretrained(fixture.Directory, new SentenceEmbeddingOptions { Precision = InferencePrecision.Float16 }));
        Assert.Contains("SentenceEmbeddingOptions.Precision", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new SentenceEmbeddingOptions { Precision = (InferencePrecision)7 }.Validate());
    }

    [Fact]
    public void Embeddings_match_onnx_runtime_with_mean_pooling_and_normalisation()
    {
        Assert.Equal(PoolingStrategy.Mean, fixture.Embedder.Pooling);
        Assert.True(fixture.Embedder.Normalize);
        float[][] actual = fixture.Embedder.Embed(Texts);
        BertTokenizer tokenizer = BertTokenizer.FromPretrained(fixture.Directory);
        float worst = 0;
        for (int i = 0; i < Texts.Length; i++)
        {
            float[] expected = Reference(tokenizer.Encode(Texts[i]));
            Assert.Equal(384, actual[i].Length);
            float diff = expected.Zip(actual[i], (a, b) => MathF.Abs(a - b)).Max();
            output.WriteLine($"#{i} max |diff| {diff:E2}, norm {MathF.Sqrt(actual[i].Sum(v => v * v)):F6}");
            Assert.True(diff <= Tolerance, $"text #{i}: max |diff| {diff} > {Tolerance}");
            worst = Math.Max(worst, diff);
        }

        output.WriteLine($"worst max |diff| {worst:E2} (tolerance {Tolerance:E0})");
    }

    [Fact]
    public async Task GenerateAsync_returns_one_vector_per_text_in_order_with_the_model_s_dimensions()
    {
        IEmbeddingGenerator<string, Embedding<float>> generator = fixture.Embedder;
        GeneratedEmbeddings<Embedding<float>> result = await generator.GenerateAsync(Texts);
        Assert.Equal(Texts.Length, result.Count);
        float[][] direct = fixture.Embedder.Embed(Texts);
        for (int i = 0; i < Texts.Length; i++)
        {
            Assert.Equal(384, result[i].Vector.Length);
            Assert.Equal(direct[i], result[i].Vector.ToArray());
        }

        EmbeddingGeneratorMetadata metadata = Assert.IsType<EmbeddingGeneratorMetadata>(generator.GetService(typeof(EmbeddingGeneratorMetadata)));
        Assert.Equal(384, metadata.DefaultModelDimensions);
        Assert.Equal(384, fixture.Embedder.Dimensions);

        GeneratedEmbeddings<Embedding<float>> none = await generator.GenerateAsync([]);
        Assert.Empty(none);
        GeneratedEmbeddings<Embedding<float>> sized = await generator.GenerateAsync(["one more"], new EmbeddingGenerationOptions { Dimensions = 384 });
        Assert.Single(sized);
        await Assert.ThrowsAsync<ArgumentException>(() => generator.GenerateAsync(["x"], new EmbeddingGenerationOptions { Dimensions = 128 }));
    }

    [Fact]
    public async Task GenerateAsync_honours_a_cancelled_token()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => fixture.Embedder.GenerateAsync(Texts, cancellationToken: cancelled.Token));

        // The embedder is still usable afterwards.
        GeneratedEmbeddings<Embedding<float>> after = await fixture.Embedder.GenerateAsync(["still works"]);
        Assert.Equal(384, after[0].Vector.Length);
    }

    // ONNX Runtime's last_hidden_state for one unpadded text, averaged over its tokens and scaled to unit length.
    private float[] Reference(IReadOnlyList<int> ids)
    {
        int[] dims = [1, ids.Count];
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids.Select(i => (long)i).ToArray(), dims)),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(Enumerable.Repeat(1L, ids.Count).ToArray(), dims)),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(new long[ids.Count], dims)),
        };
        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results = fixture.Session.Run(inputs);
        float[] hidden = results.Single(r => r.Name == "last_hidden_state").AsTensor<float>().ToArray();
        int width = hidden.Length / ids.Count;
        double[] sum = new double[width];
        for (int t = 0; t < ids.Count; t++)
        {
            for (int d = 0; d < width; d++)
            {
                sum[d] += hidden[(t * width) + d];
            }
        }

        double[] mean = [.. sum.Select(s => s / ids.Count)];
        double norm = Math.Max(Math.Sqrt(mean.Sum(v => v * v)), 1e-12);
        return [.. mean.Select(v => (float)(v / norm))];
    }
}
