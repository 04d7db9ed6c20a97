using Bert.Sharp.Modeling;
using Bert.Sharp.Runtime;
using Bert.Sharp.Tests.TestSupport;
using Xunit;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Runtime;

/// <summary>
/// The few-row kernel on packed weights (<see cref="SmallRowsGemm"/>, <see cref="PackedLinearWeight"/>) and the version
/// counters that tell when a packed copy is stale (<see cref="TensorVersion"/>). Both tiles run where the CPU has them
/// (AVX-512's on AVX-512 CPUs, AVX2's on both); on a CPU with neither nothing is packed, which the tests check instead.
/// </summary>
public sealed class SmallRowsGemmTests : IDisposable
{
    private readonly string directory = TestTemp.NewDirectory("small-rows");

    public void Dispose() => TestTemp.TryDelete(directory);

    [Fact]
    public void Version_counters_count_in_place_changes_and_inference_tensors_are_told_apart_without_reading_theirs()
    {
        Assert.True(TensorVersion.IsAvailable, TensorVersion.Status);
        using Tensor t = zeros(3, 4);
        long start = TensorVersion.Of(t);
        using (var noGrad = no_grad())
        {
            t.add_(1f);
            Assert.Equal(start + 1, TensorVersion.Of(t));
            t.mul_(2f);
            using Tensor other = ones(3, 4);
            t.copy_(other);
            Assert.Equal(start + 3, TensorVersion.Of(t));
        }

        using Tensor unchanged = t.add(1f);
        Assert.Equal(start + 3, TensorVersion.Of(t));
        Assert.True(TensorVersion.IsNormalTensor(t));
        Assert.Equal(start + 4, TensorVersion.Of(t)); // the probe's in-place change (a detached view's shape) counts too
        Assert.Equal([3L, 4L], t.shape);

        Tensor inference;
        using (var mode = inference_mode())
        {
            inference = ones(2, 2);
            Assert.False(TensorVersion.IsNormalTensor(t), "inside inference mode nothing is packed");
        }

        using (inference)
        using (Tensor columnMajor = inference.t())
        {
            Assert.False(TensorVersion.IsNormalTensor(inference));
            Assert.False(TensorVersion.IsNormalTensor(columnMajor)); // a strided view is probed in place, not through a copy
        }
    }

    public static TheoryData<int, int, int, bool> Shapes => new()
    {
        { 1, 384, 1152, true }, { 16, 384, 384, true }, { 13, 1536, 384, true }, { 7, 5, 47, true }, { 8, 48, 48, false },
        { 9, 33, 49, true }, { 4, 1, 100, false }, { 128, 64, 96, true }, { 3, 17, 1, true },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void The_packed_product_equals_linear_for_any_shape_with_or_without_bias(int rows, int inFeatures, int outFeatures, bool withBias)
    {
        using var scope = NewDisposeScope();
        var generator = new TorchSharp.torch.Generator(17);
        Tensor weight = randn([outFeatures, inFeatures], generator: generator);
        Tensor? bias = withBias ? randn([outFeatures], generator: generator) : null;
        Tensor input = randn([1, rows, inFeatures], generator: generator);
        PackedLinearWeight? packed = PackedLinearWeight.TryCreate(weight, weight);
        if (!SmallRowsGemm.IsSupported)
        {
            Assert.Null(packed);
            return;
        }

        Assert.NotNull(packed);
        using var noGrad = no_grad();
        Tensor expected = nn.functional.linear(input, weight, bias);
        Tensor? actual = packed.TryMultiply(input, [weight], weight, bias);
        if (rows > SmallRowsGemm.MaxRows)
        {
            Assert.Null(actual); // more rows than this CPU's tile serves: LibTorch's product
            return;
        }

        Assert.NotNull(actual);
        Assert.Equal(expected.shape, actual.shape);
        double tolerance = 1e-5 * Math.Sqrt(inFeatures) * expected.abs().max().item<float>() + 1e-6;
        Assert.True(expected.allclose(actual, rtol: 0, atol: tolerance), $"largest difference {(expected - actual).abs().max().item<float>()}");

        // A column-major weight (the serving layout) packs to the same panels.
        Tensor columnMajor = weight.t().contiguous().t();
        Tensor? fromColumnMajor = PackedLinearWeight.TryCreate(columnMajor, columnMajor)!.TryMultiply(input, [columnMajor], columnMajor, bias);
        Assert.Equal(0f, (actual - fromColumnMajor!).abs().max().item<float>());
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public unsafe void Each_tile_width_the_cpu_has_gives_the_product_of_linear(int rows, int inFeatures, int outFeatures, bool withBias)
    {
        using var scope = NewDisposeScope();
        var generator = new TorchSharp.torch.Generator(23);
        Tensor weight = randn([outFeatures, inFeatures], generator: generator);
        Tensor bias = randn([outFeatures], generator: generator);
        Tensor input = randn([rows, inFeatures], generator: generator);
        using var noGrad = no_grad();
        Tensor expected = nn.functional.linear(input, weight, withBias ? bias : null);
        double tolerance = 1e-5 * Math.Sqrt(inFeatures) * expected.abs().max().item<float>() + 1e-6;
        float[] panels = SmallRowsGemm.Pack(TensorMemory.Floats(weight), weight.stride(0), weight.stride(1), outFeatures, inFeatures);
        bool[] widths = [.. new[] { true, false }.Where(wide => wide ? System.Runtime.Intrinsics.X86.Avx512F.IsSupported : System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported)];
        Assert.Equal(SmallRowsGemm.IsSupported, widths.Length > 0);
        foreach (bool wide in widths)
        {
            Tensor actual = empty(rows, outFeatures);
            SmallRowsGemm.Multiply(TensorMemory.Floats(input), panels, withBias ? TensorMemory.Floats(bias) : null, TensorMemory.Floats(actual), rows, inFeatures, outFeatures, 2, wide);
            Assert.True(expected.allclose(actual, rtol: 0, atol: tolerance), $"{(wide ? 512 : 256)}-bit tile: largest difference {(expected - actual).abs().max().item<float>()}");
        }

        if (!System.Runtime.Intrinsics.X86.Avx512F.IsSupported)
        {
            Assert.Throws<PlatformNotSupportedException>(() => SmallRowsGemm.Multiply(TensorMemory.Floats(input), panels, null, TensorMemory.Floats(expected), rows, inFeatures, outFeatures, 2, wideVectors: true));
        }
    }

    [Fact]
    public void A_packed_copy_is_used_only_while_its_weight_is_unchanged_without_gradients_and_for_few_rows()
    {
        using var scope = NewDisposeScope();
        Tensor weight = randn(40, 32);
        PackedLinearWeight? packed = PackedLinearWeight.TryCreate(weight, weight);
        if (!SmallRowsGemm.IsSupported)
        {
            Assert.Null(packed);
            return;
        }

        Tensor input = randn(5, 32);
        using (var noGrad = no_grad())
        {
            Assert.NotNull(packed!.TryMultiply(input, [weight], weight, null));
            Assert.Null(packed.TryMultiply(randn(SmallRowsGemm.MaxRows + 1, 32), [weight], weight, null));
            Tensor lookalike = weight.clone();
            Assert.Null(packed.TryMultiply(input, [lookalike], lookalike, null)); // not the parameter packed
            weight.mul_(2f);
            Assert.Null(packed.TryMultiply(input, [weight], weight, null)); // changed in place
        }

        Tensor fresh = randn(40, 32);
        PackedLinearWeight again = PackedLinearWeight.TryCreate(fresh, fresh)!;
        Assert.Null(again.TryMultiply(input, [fresh], fresh, null)); // gradients on
        using (var noGrad = no_grad())
        {
            fresh.set_(fresh.clone());
            Assert.Null(again.TryMultiply(input, [fresh], fresh, null)); // another storage
        }
    }

    [Fact]
    public void A_served_classifier_packs_its_weights_predicts_as_without_them_and_lets_them_go_for_training()
    {
        BertTokenizer tokenizer = BertTokenizer.FromVocabulary(TestAssets.UncasedVocabPath);
        string folder = Path.Combine(directory, "classifier");
        using (var model = SeededWeights.Apply(new BertForSequenceClassification(new BertModel(TinyConfigs.Bert(vocab: tokenizer.VocabularySize)), ["neg", "pos", "mid"]), 5, initializerRange: 0.3))
        {
            model.SavePretrained(folder, tokenizer);
        }

        using TextClassifier packed = TextClassifier.FromPretrained(folder);
        using TextClassifier plain = TextClassifier.FromPretrained(folder, new TextClassifierOptions { PackWeights = false });
        BertLinear[] linears = [.. packed.Model.modules().OfType<BertLinear>()];
        BertSelfAttention[] attentions = [.. packed.Model.modules().OfType<BertSelfAttention>()];
        int projections = attentions.Sum(a => a.Projections.Count);
        Assert.Equal(SmallRowsGemm.IsSupported ? linears.Length - projections : 0, linears.Count(l => l.Packed is not null));
        Assert.All(attentions, a => Assert.Equal(SmallRowsGemm.IsSupported, a.HasPackedProjection));
        Assert.All(plain.Model.modules().OfType<BertLinear>(), l => Assert.Null(l.Packed));

        string[] texts = ["a fine phone", "it broke after a day and the seller never answered my mail about it", "", "ok"];
        IReadOnlyList<Prediction> batch = packed.PredictBatch(texts), reference = plain.PredictBatch(texts);
        for (int i = 0; i < texts.Length; i++)
        {
            Prediction single = packed.Predict(texts[i]);
            foreach (string label in packed.Labels)
            {
                Assert.Equal(reference[i].Probabilities[label], single.Probabilities[label], 5);
                Assert.Equal(reference[i].Probabilities[label], batch[i].Probabilities[label], 5);
            }
        }

        // Weights changed in place (as a LoRA merge or an optimizer step writes) reach the next prediction: the packed
        // copies see their parameters' version counters move and step aside. The value projection and a feed-forward
        // weight, whose changes move the output directly (a tiny model's attention scores hardly move with Q or K).
        using (var noGrad = no_grad())
        {
            foreach (TextClassifier served in new[] { packed, plain })
            {
                served.Model.modules().OfType<BertSelfAttention>().First().Projections[2].Weight.mul_(-3f);
                served.Model.modules().OfType<BertIntermediate>().Last().modules().OfType<BertLinear>().Single().Weight.mul_(4f);
            }
        }

        IReadOnlyList<Prediction> changed = packed.PredictBatch(texts), changedReference = plain.PredictBatch(texts);
        double moved = 0;
        for (int i = 0; i < texts.Length; i++)
        {
            Prediction single = packed.Predict(texts[i]);
            foreach (string label in packed.Labels)
            {
                moved = Math.Max(moved, Math.Abs(changedReference[i].Probabilities[label] - reference[i].Probabilities[label]));
                Assert.Equal(changedReference[i].Probabilities[label], single.Probabilities[label], 5);
                Assert.Equal(changedReference[i].Probabilities[label], changed[i].Probabilities[label], 5);
            }
        }

        Assert.True(moved > 1e-3, $"the changes moved the probabilities by {moved} only: the comparison would say little");

        LinearWeightLayout.UseRowMajor(packed.Model);
        Assert.All(linears, l => Assert.Null(l.Packed));
        Assert.All(attentions, a => Assert.False(a.HasPackedProjection));
        Prediction after = packed.Predict(texts[0]);
        Assert.Equal(changedReference[0].Probabilities["pos"], after.Probabilities["pos"], 5);
    }

    [Fact]
    public void A_bfloat16_served_classifier_multiplies_in_bfloat16_with_or_without_packed_weights()
    {
        BertTokenizer tokenizer = BertTokenizer.FromVocabulary(TestAssets.UncasedVocabPath);
        string folder = Path.Combine(directory, "bf16");
        using (var model = SeededWeights.Apply(new BertForSequenceClassification(new BertModel(TinyConfigs.Bert(vocab: tokenizer.VocabularySize)), ["neg", "pos"]), 9, initializerRange: 0.3))
        {
            model.SavePretrained(folder, tokenizer);
        }

        // Under autocast LibTorch multiplies in bf16; the packed float32 copies step aside, so both give bf16's numbers.
        using TextClassifier packed = TextClassifier.FromPretrained(folder, new TextClassifierOptions { Precision = InferencePrecision.BFloat16 });
        using TextClassifier plain = TextClassifier.FromPretrained(folder, new TextClassifierOptions { Precision = InferencePrecision.BFloat16, PackWeights = false });
        using TextClassifier float32 = TextClassifier.FromPretrained(folder);
        Assert.Equal(InferencePrecision.BFloat16, packed.Precision);
        double fromFloat32 = 0;
        foreach (string text in new[] { "a fine phone", "it broke after a day and the seller never answered" })
        {
            Prediction a = packed.Predict(text), b = plain.Predict(text), c = float32.Predict(text);
            Assert.Equal(b.Probabilities["pos"], a.Probabilities["pos"], 6);
            fromFloat32 = Math.Max(fromFloat32, Math.Abs(a.Probabilities["pos"] - c.Probabilities["pos"]));
        }

        Assert.True(fromFloat32 > 0, "bf16 and float32 predictions are identical: bf16 did not run");
    }
}
