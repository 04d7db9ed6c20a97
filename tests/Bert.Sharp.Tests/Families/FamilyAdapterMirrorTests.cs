using System.Text.Json.Nodes;
using Bert.Sharp.Tests.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Families;

/// <summary>
/// LoRA adapter folders of every family (BERT, RoBERTa, DistilBERT, ModernBERT; sequence and token heads) read as PEFT reads
/// them: tests/python/hf_mirror.py loads the base named in <c>adapter_config.json</c>, applies <c>scaling·B·A</c> to every
/// linear layer PEFT's <c>target_modules</c> rule picks (failing on a picked layer without weights or a key nothing uses) and
/// the saved head modules, then runs transformers' forward. The logits must equal the adapted model's, within 1e-4, with
/// the adapter moving them well beyond that. The targets vary so that each way of writing <c>target_modules</c> is read back
/// by PEFT's rule: suffixes, the regular expression (the feed-forward output without the attention output), DistilBERT's
/// names, ModernBERT's packed <c>Wqkv</c> and its two <c>Wo</c> layers.
/// </summary>
[Collection(Training.SerialTorchGroup.Name)]
public sealed class FamilyAdapterMirrorTests
{
    public static TheoryData<string, string, LoraTargets, bool> Cases() => new()
    {
        { "bert", "sequence-classification", LoraTargets.Query | LoraTargets.Value | LoraTargets.Output, false },
        { "bert", "token-classification", LoraTargets.AllLinear, true },
        { "roberta", "sequence-classification", LoraTargets.Default, false },
        { "xlm-roberta", "token-classification", LoraTargets.Key | LoraTargets.Intermediate, false },
        { "distilbert", "sequence-classification", LoraTargets.AllLinear, false },
        { "distilbert", "token-classification", LoraTargets.Default, false },
        { "modernbert", "sequence-classification", LoraTargets.Default, false },
        { "modernbert", "token-classification", LoraTargets.AttentionOutput, true },
        { "modernbert", "sequence-classification", LoraTargets.Intermediate | LoraTargets.Output, false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void An_adapter_folder_computes_the_adapted_logits_when_python_applies_it_as_peft_does(string modelType, string task, LoraTargets targets, bool rsLora)
    {
        string root = TestTemp.NewDirectory("adapter-mirror");
        try
        {
            BertConfig config = ConfigOf(modelType);
            (long[,] ids, long[,] mask) = Batch(config.PadTokenId);
            bool sequence = task == "sequence-classification";
            bool[] real = sequence ? [true, true, true] : [.. mask.Cast<long>().Select(m => m == 1)];
            using BertTaskModel model = sequence
                ? MirrorRequests.WideSpread(new BertForSequenceClassification(config, ["a", "b", "c"]), 31)
                : MirrorRequests.WideSpread(new BertForTokenClassification(config, ["O", "B-X", "I-X", "B-Y"]), 32);
            string baseFolder = Path.Combine(root, "base");
            model.SavePretrained(baseFolder);
            model.BaseModelNameOrPath = baseFolder;

            model.Adapters.Add("default", new LoraOptions { Rank = 4, Alpha = 6, Dropout = 0, Targets = targets, UseRsLora = rsLora }, seed: 5);
            Spread(model, name => name.Contains("lora_", StringComparison.Ordinal), 33);
            Spread(model, name => !name.Contains("lora_", StringComparison.Ordinal) && (name.StartsWith("classifier", StringComparison.Ordinal) || name.StartsWith("pre_classifier", StringComparison.Ordinal) || name.StartsWith("head.", StringComparison.Ordinal)), 34);
            model.eval();
            float[][] adapted = Logits(model, ids, mask);
            model.Adapters.Use(null);
            float[][] unadapted = Logits(model, ids, mask);
            model.Adapters.Use("default");

            string adapterFolder = Path.Combine(root, "adapter");
            model.SavePretrained(adapterFolder);
            Assert.True(File.Exists(Path.Combine(adapterFolder, "adapter_config.json")));

            string requestFile = Path.Combine(root, "requests.json");
            File.WriteAllText(requestFile, new JsonArray(MirrorRequests.Request(adapterFolder, task, ids, mask)).ToJsonString());
            JsonArray results = JsonNode.Parse(PythonWithTorch.RunScript("hf_mirror.py", requestFile).Trim())!.AsArray();
            float[][] python = [.. MirrorRequests.Rows(results.Single()!["output"]!)];
            MirrorRequests.AssertClose($"{modelType} {task} {targets}: Bert.Sharp vs the PEFT mirror", adapted, python, real);
            float moved = adapted.Zip(unadapted, real).Where(r => r.Third).Max(r => r.First.Zip(r.Second).Max(p => Math.Abs(p.First - p.Second)));
            Assert.True(moved > 0.1f, $"{modelType} {task} {targets}: the adapter moves the logits by only {moved}");
        }
        finally
        {
            TestTemp.TryDelete(root);
        }
    }

    [Fact]
    public void Modernbert_adapters_target_the_packed_projection_whole_and_name_each_output_layer_apart()
    {
        using var model = new BertForSequenceClassification(ModernBertTests.Config(), ["a", "b"]);
        model.Adapters.Add("qv", new LoraOptions { Rank = 2, Targets = LoraTargets.Query | LoraTargets.Value });
        string[] qv = [.. model.named_parameters().Select(p => p.name).Where(n => n.Contains("lora_A", StringComparison.Ordinal))];
        Assert.Equal(3, qv.Length); // one packed projection in each of the 3 layers
        Assert.All(qv, n => Assert.Contains(".attn.Wqkv.lora_A.", n, StringComparison.Ordinal));
        Assert.Equal([96L, 2L], model.named_parameters().First(p => p.name.Contains("Wqkv.lora_B", StringComparison.Ordinal)).parameter.shape); // B covers query, key and value: 3 × hidden rows

        model.Adapters.Delete("qv");
        model.Adapters.Add("out", new LoraOptions { Rank = 2, Targets = LoraTargets.Output });
        string[] output = [.. model.named_parameters().Select(p => p.name).Where(n => n.Contains("lora_A", StringComparison.Ordinal))];
        Assert.Equal(3, output.Length);
        Assert.All(output, n => Assert.Contains(".mlp.Wo.lora_A.", n, StringComparison.Ordinal));
    }

    private static BertConfig ConfigOf(string modelType) => modelType switch
    {
        "modernbert" => ModernBertTests.Config(biases: true),
        "bert" => TinyConfigs.Bert(vocab: 100, maxPositions: 40) with { PadTokenId = 0 },
        _ => TinyConfigs.Bert(vocab: 100, maxPositions: 40, act: modelType == "distilbert" ? "gelu" : "gelu_new") with
        {
            ModelType = modelType,
            PadTokenId = modelType == "distilbert" ? 0 : 1,
            TypeVocabSize = modelType == "distilbert" ? 0 : 1,
            LayerNormEps = modelType == "distilbert" ? 1e-12 : 1e-5,
        },
    };

    // Three texts of 20, 13 and 6 tokens, right-padded; no real id equals the padding id.
    private static (long[,] Ids, long[,] Mask) Batch(int pad)
    {
        int[] lengths = [20, 13, 6];
        long[,] ids = new long[3, 20];
        long[,] mask = new long[3, 20];
        var random = new Random(7);
        for (int r = 0; r < 3; r++)
        {
            for (int c = 0; c < 20; c++)
            {
                bool isReal = c < lengths[r];
                ids[r, c] = isReal ? random.Next(3, 100) : pad;
                mask[r, c] = isReal ? 1 : 0;
            }
        }

        return (ids, mask);
    }

    // Redraws the parameters whose names match (N(0, 0.25); norm weights 1 + that), so the adapter's matrices and head differ from the base.
    private static void Spread(BertTaskModel model, Func<string, bool> which, int seed)
    {
        using var noGrad = no_grad();
        using var generator = new Generator((ulong)seed, CPU);
        foreach ((string name, TorchSharp.Modules.Parameter parameter) in model.named_parameters().Where(p => which(p.name)))
        {
            using Tensor drawn = randn(parameter.shape, generator: generator).mul_(0.25);
            parameter.copy_(name.EndsWith("norm.weight", StringComparison.OrdinalIgnoreCase) ? drawn.add_(1) : drawn);
        }
    }

    private static float[][] Logits(BertTaskModel model, long[,] ids, long[,] mask) => model switch
    {
        BertForSequenceClassification s => MirrorRequests.Logits(s.Forward, ids, mask),
        BertForTokenClassification t => MirrorRequests.Logits(t.Forward, ids, mask),
        _ => throw new ArgumentException(model.GetType().Name, nameof(model)),
    };
}
