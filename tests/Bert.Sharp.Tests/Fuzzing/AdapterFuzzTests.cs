using Bert.Sharp.Tests.TestSupport;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Fuzzing;

/// <summary>
/// Mutation fuzzing of PEFT adapter folders (issue 21 item 8): <c>adapter_config.json</c> and
/// <c>adapter_model.safetensors</c>, each mutated beside a valid copy of the other and opened as a whole model through
/// <see cref="BertForSequenceClassification.FromPretrained(string, IReadOnlyList{string}?, ClassifierLoadOptions?)"/>
/// (the path <see cref="TextClassifier"/> takes). Every input either loads — and then predicts finite scores — or is
/// refused with <see cref="InvalidDataException"/> (or <see cref="FileNotFoundException"/> for a base that is not there)
/// naming the folder; none hangs; the adapter tensors made are at most 8× the file's size.
/// </summary>
[Collection(SerialFuzzGroup.Name)]
public sealed class AdapterFuzzTests(ITestOutputHelper output) : IDisposable
{
    // Weights below this magnitude must give finite scores.
    private const float MaxPlausibleWeight = 1e4f;

    private readonly string dir = FuzzRunner.NewWorkDirectory("fuzz-adapter");

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void Adapter_config_json_mutations_load_or_are_refused_as_invalid_data()
    {
        Corpus corpus = Build();
        var runner = new FuzzRunner(
            "adapter_config.json",
            Path.Combine(corpus.Adapter, "adapter_config.json"),
            baseSeed: 21_000_000,
            corpus.Configs,
            (file, rng, log) => rng.Next(5) < 3 ? JsonMutator.Mutate(file, rng, log) ?? ByteMutator.Mutate(file, corpus.Configs, rng, log) : ByteMutator.Mutate(file, corpus.Configs, rng, log),
            _ => Load(corpus),
            typeof(InvalidDataException),
            typeof(FileNotFoundException),
            typeof(DirectoryNotFoundException),
            typeof(HubException))
        {
            WarmUp = () => Load(corpus),
        };
        Check(runner.Run(FuzzRunner.Iterations));
    }

    [Fact]
    public void Adapter_model_safetensors_mutations_load_or_are_refused_as_invalid_data()
    {
        Corpus corpus = Build();
        var runner = new FuzzRunner(
            "adapter_model.safetensors",
            Path.Combine(corpus.Adapter, "adapter_model.safetensors"),
            baseSeed: 22_000_000,
            corpus.Weights,
            (file, rng, log) => ContainerMutator.SafeTensors(file, corpus.Weights, rng, log),
            _ => Load(corpus),
            typeof(InvalidDataException))
        {
            WarmUp = () => Load(corpus),
        };
        Check(runner.Run(FuzzRunner.Iterations));
    }

    [Fact]
    public void The_corpus_folders_themselves_load()
    {
        Corpus corpus = Build();
        foreach (byte[] config in corpus.Configs)
        {
            foreach (byte[] weights in corpus.Weights)
            {
                File.WriteAllBytes(Path.Combine(corpus.Adapter, "adapter_config.json"), config);
                File.WriteAllBytes(Path.Combine(corpus.Adapter, "adapter_model.safetensors"), weights);
                Assert.True(Load(corpus) > 0);
            }
        }
    }

    // Opens the adapter folder as a model, predicts once; returns the adapter's tensor bytes (the base is a fixed cost).
    private static long Load(Corpus corpus)
    {
        using BertForSequenceClassification model = BertForSequenceClassification.FromPretrained(corpus.Adapter, null, corpus.Options);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Tensor logits = model.Forward(tensor(new long[,] { { 1, 10, 34, 56, 2 } })).Logits;
        if (!isfinite(logits).all().item<bool>())
        {
            // Non-finite weights are refused at load; finite ones large enough to overflow the forward pass (a byte set
            // to 0xF0 in a float's exponent makes -6e29) are not detectable in general and are accepted (docs/reliability.md).
            float largest = model.parameters().Max(p => p.abs().max().item<float>());
            if (largest < MaxPlausibleWeight)
            {
                throw new Xunit.Sdk.XunitException($"the adapter loaded, its weights are at most {largest} in magnitude, but it predicts non-finite scores: {string.Join(", ", logits.data<float>().ToArray())}");
            }
        }

        return model.named_parameters().Where(p => p.name.Contains("lora_", StringComparison.Ordinal)).Sum(p => p.parameter.bytes.Length);
    }

    private Corpus Build()
    {
        string baseDir = Path.Combine(dir, "base");
        string adapter = Path.Combine(dir, "adapter");
        using (var model = SeededWeights.Apply(new BertForSequenceClassification(TinyConfigs.Bert(layers: 1, hidden: 16, heads: 2, vocab: 64, maxPositions: 16), ["negative", "positive"]), 11))
        {
            model.SavePretrained(baseDir);
        }

        var configs = new List<byte[]>();
        var weights = new List<byte[]>();
        using (BertForSequenceClassification model = BertForSequenceClassification.FromPretrained(baseDir))
        {
            global::Bert.Sharp.Tests.Adapters.LoraTestModels.AddRandomAdapter(model, "default", new LoraOptions { Rank = 2, Alpha = 4, Dropout = 0.05 }, 3);
            string saved = Path.Combine(dir, "saved-adapter");
            model.Adapters.Save(saved);
            configs.Add(File.ReadAllBytes(Path.Combine(saved, "adapter_config.json")));
            weights.Add(File.ReadAllBytes(Path.Combine(saved, "adapter_model.safetensors")));
            string pretrained = Path.Combine(dir, "saved-pretrained");
            model.SavePretrained(pretrained);
            weights.Add(File.ReadAllBytes(Path.Combine(pretrained, "adapter_model.safetensors")));
        }

        // The same adapter as Python's PEFT writes its config: a regex target, more keys, the base as a folder name.
        configs.Add(System.Text.Encoding.UTF8.GetBytes($$"""
            {"alpha_pattern": {}, "auto_mapping": null, "base_model_name_or_path": {{System.Text.Json.JsonSerializer.Serialize(baseDir)}}, "bias": "none",
             "fan_in_fan_out": false, "inference_mode": true, "init_lora_weights": true, "layers_pattern": null, "layers_to_transform": null,
             "lora_alpha": 4, "lora_dropout": 0.05, "modules_to_save": ["classifier"], "peft_type": "LORA", "r": 2, "rank_pattern": {},
             "revision": null, "target_modules": ".*\\.(query|value)$", "task_type": "SEQ_CLS", "use_rslora": false}
            """));
        Directory.CreateDirectory(adapter);
        File.WriteAllBytes(Path.Combine(adapter, "adapter_config.json"), configs[0]);
        File.WriteAllBytes(Path.Combine(adapter, "adapter_model.safetensors"), weights[0]);
        var options = new ClassifierLoadOptions
        {
            Hub = new PretrainedResolveOptions { Hub = new HubClientOptions { Offline = true, CacheDirectory = Path.Combine(dir, "hub-cache") } },
        };
        return new Corpus(adapter, configs, weights, options);
    }

    private void Check(FuzzResult result)
    {
        output.WriteLine(result.Summary());
        foreach (string failure in result.Failures.Take(30))
        {
            output.WriteLine(failure);
        }

        Assert.Empty(result.Hangs);
        Assert.True(result.Failures.Count == 0, $"{result.Failures.Count} failures, first: {string.Join("\n", result.Failures.Take(5))}");
        Assert.Equal(FuzzRunner.Iterations, result.Inputs);
    }

    private sealed record Corpus(string Adapter, IReadOnlyList<byte[]> Configs, IReadOnlyList<byte[]> Weights, ClassifierLoadOptions Options);
}
