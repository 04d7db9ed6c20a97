using Bert.Sharp.Inference;
using Bert.Sharp.Runtime;
using Bert.Sharp.Tests.Checkpoints;
using Bert.Sharp.Training;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Training;

[Collection(SerialTorchGroup.Name)]
public class MixedPrecisionTests
{
    private static readonly FineTuningOptions Short = new()
    {
        MaxSteps = 3,
        BatchSize = 8,
        LearningRate = 1e-3,
        SaveStrategy = IntervalStrategy.No,
        EvaluationStrategy = IntervalStrategy.No,
    };

    /// <summary>
    /// The tolerance: bf16 keeps 8 significant bits, so every GEMM input is rounded with relative error ≤ 2⁻⁹ ≈ 2e-3 (products
    /// accumulate in fp32). A gradient passes through a few such roundings per layer forward and back (activation, weight,
    /// incoming gradient), so the whole gradient's relative error is a small multiple of 2⁻⁹: measured 3e-3 on MiniLM
    /// (docs/performance.md). We allow 2e-2 for the whole gradient vector and 5e-2 (cosine above 0.998) for each tensor
    /// holding at least a tenth of the largest tensor's norm; smaller tensors are sums that nearly cancel (the head's weight
    /// on an untrained model: near-equal pooled vectors times ±0.5), where a relative measure only amplifies rounding.
    /// A silent fp32 run would give exactly zero difference, which is asserted against.
    /// </summary>
    [Fact]
    public void BFloat16_gradients_agree_with_float32_within_bf16_rounding()
    {
        using var model = ToyData.Model(layers: 2);
        model.train();
        using var scope = NewDisposeScope();
        (Tensor ids, Tensor mask, Tensor labels) = Batch();

        Dictionary<string, Tensor> fp32 = Gradients(model, ids, mask, labels, null);
        MixedPrecision bf16 = MixedPrecision.Resolve(TrainingPrecision.BFloat16, CPU, "test");
        Dictionary<string, Tensor> reduced = Gradients(model, ids, mask, labels, bf16);

        Tensor all32 = cat([.. fp32.Values.Select(g => g.flatten())]);
        Tensor all16 = cat([.. fp32.Keys.Select(k => reduced[k].flatten())]);
        double global = (all16 - all32).norm().item<float>() / all32.norm().item<float>();
        Assert.True(global < 2e-2, $"whole gradient: relative L2 error {global:E2}");
        Assert.True((all16 - all32).abs().max().item<float>() > 0, "bf16 gradients equal fp32 bit for bit: the forward did not run in bf16");

        double largest = fp32.Values.Max(g => (double)g.norm().item<float>());
        foreach ((string name, Tensor g) in fp32)
        {
            Tensor r = reduced[name];
            Assert.Equal(ScalarType.Float32, r.dtype);
            double norm = g.norm().item<float>();
            if (norm < 0.1 * largest)
            {
                continue;
            }

            double relative = (r - g).norm().item<float>() / norm;
            double cosine = (r * g).sum().item<float>() / (norm * r.norm().item<float>());
            Assert.True(relative < 5e-2, $"{name}: relative L2 error {relative:E2} (whole gradient {global:E2})");
            Assert.True(cosine > 0.998, $"{name}: cosine {cosine:F5}");
        }
    }

    [Fact]
    public void Training_in_bfloat16_reports_it_and_warns_where_bf16_is_slow()
    {
        using var fp32Model = ToyData.Model(dropout: 0.1);
        using var bf16Model = ToyData.Model(dropout: 0.1);
        var train = ToyData.Sentiment(24);
        using var logs = new ListLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs));

        TrainingReport plain = ToyData.Tuner(fp32Model, Short).Train(train);
        TrainingReport mixed = ToyData.Tuner(bf16Model, Short with { Precision = TrainingPrecision.BFloat16, LoggerFactory = factory }).Train(train);

        Assert.Equal(TrainingPrecision.Float32, plain.Precision);
        Assert.Equal(TrainingPrecision.BFloat16, mixed.Precision);
        Assert.Equal(TrainingPrecision.BFloat16, mixed.RequestedPrecision);
        if (!BFloat16Hardware.CpuHasFastBFloat16)
        {
            Assert.Contains(logs.Messages, m => m.Contains("without fast bf16", StringComparison.Ordinal));
        }

        // Master weights stay fp32, move like fp32 training's, and are not fp32 training's bit for bit (bf16 really ran).
        var a = ToyData.Snapshot(fp32Model);
        var b = ToyData.Snapshot(bf16Model);
        Assert.All(bf16Model.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
        Assert.Contains(a.Keys, k => !a[k].AsSpan().SequenceEqual(b[k]));
        Assert.All(a.Keys, k => Assert.True(a[k].Zip(b[k]).Max(p => Math.Abs(p.First - p.Second)) < 5e-3, k));
        Assert.InRange(mixed.FinalLoss, plain.FinalLoss - 0.05, plain.FinalLoss + 0.05);
    }

    [Fact]
    public void Evaluation_in_bfloat16_gives_float32_metrics_close_to_float32()
    {
        using var model = ToyData.Model();
        var data = ToyData.Sentiment(20, seed: 5);
        EvaluationReport fp32 = ToyData.Tuner(model, Short).Evaluate(data);
        EvaluationReport bf16 = ToyData.Tuner(model, Short with { Precision = TrainingPrecision.BFloat16 }).Evaluate(data);
        Assert.InRange(bf16.Loss, fp32.Loss - 0.02, fp32.Loss + 0.02);
        Assert.NotEqual(fp32.Loss, bf16.Loss);
    }

    [Fact]
    public void Float16_on_the_cpu_is_an_error_naming_the_option()
    {
        using var model = ToyData.Model();
        FineTuner tuner = ToyData.Tuner(model, Short with { Precision = TrainingPrecision.Float16 });
        var e = Assert.Throws<ArgumentException>(() => tuner.Train(ToyData.Sentiment(8)));
        Assert.Contains("FineTuningOptions.Precision", e.Message, StringComparison.Ordinal);
        Assert.Contains("CUDA", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => (Short with { Precision = (TrainingPrecision)9 }).Validate());
    }

    [Fact]
    public void A_predictor_asked_for_auto_reports_the_precision_the_rule_chose_never_auto()
    {
        using var model = ToyData.Model();
        using var classifier = new TextClassifier(model, new ToyEncoder(), new TextClassifierOptions { Precision = InferencePrecision.Auto });
        InferencePrecision expected = MixedPrecision.ChooseAutomatically(model.Device).Precision == TrainingPrecision.BFloat16 ? InferencePrecision.BFloat16 : InferencePrecision.Float32;
        Assert.Equal(expected, classifier.Precision);
        Assert.NotEqual(InferencePrecision.Auto, classifier.Precision);
        Assert.Equal(2, classifier.PredictBatch(["good", "bad"]).Count);
    }

    [Fact]
    public void Text_classifier_predicts_in_bfloat16_close_to_float32_and_refuses_float16_on_the_cpu()
    {
        using var fp32Model = ToyData.Model();
        using var bf16Model = ToyData.Model();
        using var plain = new TextClassifier(fp32Model, new ToyEncoder(), new TextClassifierOptions());
        using var mixed = new TextClassifier(bf16Model, new ToyEncoder(), new TextClassifierOptions { Precision = InferencePrecision.BFloat16 });
        Assert.Equal(InferencePrecision.Float32, plain.Precision);
        Assert.Equal(InferencePrecision.BFloat16, mixed.Precision);
        string[] texts = ["the phone was good", "awful battery", "it was very fine and quite great"];
        var p = plain.PredictBatch(texts);
        var m = mixed.PredictBatch(texts);
        for (int i = 0; i < texts.Length; i++)
        {
            Assert.InRange(m[i].Probabilities["positive"], p[i].Probabilities["positive"] - 0.02, p[i].Probabilities["positive"] + 0.02);
        }

        using var other = ToyData.Model();
        var e = Assert.Throws<ArgumentException>(() => new TextClassifier(other, new ToyEncoder(), new TextClassifierOptions { Precision = InferencePrecision.Float16 }));
        Assert.Contains("TextClassifierOptions.Precision", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new TextClassifierOptions { Precision = (InferencePrecision)5 }.Validate());
    }

    private static (Tensor Ids, Tensor Mask, Tensor Labels) Batch()
    {
        var encoder = new ToyEncoder();
        var examples = ToyData.Sentiment(6, seed: 3);
        var encoded = encoder.Encode([.. examples.Select(e => e.Text)], null, 64);
        (Tensor ids, Tensor mask, _) = TensorBatch.Collate(encoded, [.. Enumerable.Range(0, encoded.Count)], 0, CPU);
        // One label for all: on an untrained tiny model the pooled vectors are nearly equal, and balanced labels would make
        // every gradient a near-cancelling difference (±0.5 × almost the same vector) whose relative error measures that
        // cancellation, not bf16.
        Tensor labels = ones(examples.Count, dtype: ScalarType.Int64);
        return (ids, mask, labels);
    }

    private static Dictionary<string, Tensor> Gradients(BertForSequenceClassification model, Tensor ids, Tensor mask, Tensor labels, MixedPrecision? precision)
    {
        model.zero_grad();
        Tensor loss;
        using (precision?.Enter())
        {
            loss = model.Forward(ids, mask, null, labels).Loss!;
        }

        loss.backward();
        var result = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone());
        model.zero_grad();
        return result;
    }

    [Fact]
    public void Auto_picks_bfloat16_only_with_amx_or_a_bf16_gpu_and_says_why()
    {
        (TrainingPrecision zen4, string why) = MixedPrecision.ChooseAutomatically(TorchSharp.DeviceType.CPU, null, cpuHasAmx: false, "x64, avx512_bf16=yes, amx_bf16=no");
        Assert.Equal(TrainingPrecision.Float32, zen4);
        Assert.Contains("no AMX-BF16", why, StringComparison.Ordinal);
        Assert.Equal(TrainingPrecision.BFloat16, MixedPrecision.ChooseAutomatically(TorchSharp.DeviceType.CPU, null, cpuHasAmx: true, "amx").Precision);
        Assert.Equal(TrainingPrecision.BFloat16, MixedPrecision.ChooseAutomatically(TorchSharp.DeviceType.CUDA, 8, cpuHasAmx: false, "").Precision);
        Assert.Equal(TrainingPrecision.Float32, MixedPrecision.ChooseAutomatically(TorchSharp.DeviceType.CUDA, 7, cpuHasAmx: false, "").Precision);
        Assert.Equal(TrainingPrecision.Float32, MixedPrecision.ChooseAutomatically(TorchSharp.DeviceType.CUDA, null, cpuHasAmx: false, "").Precision);
    }

    [Fact]
    public void Training_with_auto_runs_float32_on_a_cpu_without_amx_and_the_report_says_why()
    {
        bool amx = BFloat16Hardware.CpuHasAmxBFloat16;
        using var model = ToyData.Model();
        using var logs = new ListLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs));
        TrainingReport report = ToyData.Tuner(model, Short with { Precision = TrainingPrecision.Auto, LoggerFactory = factory }).Train(ToyData.Sentiment(16));
        Assert.Equal(TrainingPrecision.Auto, report.RequestedPrecision);
        TrainingPrecision expected = amx ? TrainingPrecision.BFloat16 : TrainingPrecision.Float32;
        string reason = amx ? "has AMX-BF16" : "no AMX-BF16";
        Assert.Equal(expected, report.Precision);
        Assert.Contains(reason, report.PrecisionReason, StringComparison.Ordinal);
        Assert.DoesNotContain(logs.Messages, m => m.Contains("without fast bf16", StringComparison.Ordinal));
    }
}
