using Bert.Sharp;

namespace SentimentAnalysis;

/// <summary>The freeze policies the sample offers by name.</summary>
internal static class PolicyNames
{
    public static readonly string[] All = ["transfer", "top-layers", "full", "frozen-embeddings", "gradual", "lora"];

    public static FreezePolicy Create(string name, SentimentSettings settings) => name switch
    {
        "lora" => FreezePolicy.LoRA(settings.LoraRank, settings.LoraAlpha, dropout: 0.1, ParseTargets(settings.LoraTargets)),
        "transfer" => FreezePolicy.TransferLearning(),
        "top-layers" => FreezePolicy.FineTuneTopLayers(settings.TopLayers),
        "full" => FreezePolicy.FullFineTuning(),
        "frozen-embeddings" => FreezePolicy.FreezeEmbeddings(),
        "gradual" => FreezePolicy.GradualUnfreezing(everyEpochs: 1, startLayers: settings.TopLayers),
        _ => throw new ArgumentException($"Unknown policy '{name}'; use one of: {string.Join(", ", All)}."),
    };

    public static string Describe(string name, SentimentSettings settings) => name switch
    {
        "lora" => $"LoRA r={settings.LoraRank} alpha={settings.LoraAlpha} on {settings.LoraTargets} + head",
        "transfer" => "transfer learning (encoder frozen, head only)",
        "top-layers" => $"fine-tuning the top {settings.TopLayers} encoder layer{(settings.TopLayers == 1 ? "" : "s")} + head",
        "full" => "full fine-tuning",
        "frozen-embeddings" => "fine-tuning all but the embeddings",
        "gradual" => $"gradual unfreezing from {settings.TopLayers} layer{(settings.TopLayers == 1 ? "" : "s")}, one more per epoch",
        _ => name,
    };

    /// <summary>Comma-separated layer names (query, key, value, attention-output, intermediate, output, all) as <see cref="LoraTargets"/>.</summary>
    public static LoraTargets ParseTargets(string names)
    {
        LoraTargets targets = LoraTargets.None;
        foreach (string name in names.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            targets |= name switch
            {
                "query" => LoraTargets.Query,
                "key" => LoraTargets.Key,
                "value" => LoraTargets.Value,
                "attention-output" => LoraTargets.AttentionOutput,
                "intermediate" => LoraTargets.Intermediate,
                "output" => LoraTargets.Output,
                "all" => LoraTargets.AllLinear,
                _ => throw new ArgumentException($"Unknown LoRA target '{name}' in --lora-targets; use query, key, value, attention-output, intermediate, output or all."),
            };
        }

        return targets == LoraTargets.None ? throw new ArgumentException("--lora-targets names no layer; for example query,value.") : targets;
    }
}
