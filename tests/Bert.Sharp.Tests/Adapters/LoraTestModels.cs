using Bert.Sharp.Tests.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Adapters;

/// <summary>Tiny models with LoRA adapters whose B is random (a fresh adapter's B is zero and would hide every mistake).</summary>
internal static class LoraTestModels
{
    public static readonly string[] Labels = ["negative", "positive"];

    /// <summary>A tiny classifier whose weights come from a local generator (tests run in parallel: torch's global generator is shared).</summary>
    public static BertForSequenceClassification Classifier(int seed = 7)
    {
        var model = new BertForSequenceClassification(TinyConfigs.Bert(), Labels);
        using var generator = new Generator((ulong)seed);
        using (no_grad())
        {
            foreach ((string _, TorchSharp.Modules.Parameter p) in model.named_parameters())
            {
                p.copy_(randn(p.shape, generator: generator) * 0.05);
            }
        }

        model.eval();
        return model;
    }

    /// <summary>Adds adapter <paramref name="name"/> and fills its B matrices and the head with seeded random values.</summary>
    public static void AddRandomAdapter(BertTaskModel model, string name, LoraOptions options, int seed)
    {
        model.Adapters.Add(name, options, seed);
        using var generator = new Generator((ulong)seed + 1000);
        using var noGrad = no_grad();
        foreach ((string key, TorchSharp.Modules.Parameter p) in model.named_parameters())
        {
            if (key.Contains($".lora_B.{name}.", StringComparison.Ordinal) || key.StartsWith("classifier.", StringComparison.Ordinal))
            {
                p.copy_(randn(p.shape, generator: generator) * 0.1);
            }
        }
    }

    public static (Tensor Ids, Tensor Mask) Batch()
    {
        Tensor ids = tensor(new long[,] { { 1, 10, 34, 56, 2, 0 }, { 1, 20, 21, 45, 67, 2 } });
        Tensor mask = tensor(new long[,] { { 1, 1, 1, 1, 1, 0 }, { 1, 1, 1, 1, 1, 1 } });
        return (ids, mask);
    }

    public static float[] Logits(BertForSequenceClassification model)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        (Tensor ids, Tensor mask) = Batch();
        return model.Forward(ids, mask).Logits.data<float>().ToArray();
    }

    public static void AssertClose(float[] expected, float[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst <= tolerance, $"largest difference {worst:E2} > {tolerance:E0}");
    }

    public static string TempFolder(string name)
    {
        return TestTemp.NewDirectory("lora-" + name);
    }
}
