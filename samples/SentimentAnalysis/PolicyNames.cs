using Bert.Sharp;

namespace SentimentAnalysis;

/// <summary>The freeze policies the sample offers by name.</summary>
internal static class PolicyNames
{
    public static readonly string[] All = ["transfer", "top-layers", "full", "frozen-embeddings", "gradual"];

    public static FreezePolicy Create(string name, int topLayers) => name switch
    {
        "transfer" => FreezePolicy.TransferLearning(),
        "top-layers" => FreezePolicy.FineTuneTopLayers(topLayers),
        "full" => FreezePolicy.FullFineTuning(),
        "frozen-embeddings" => FreezePolicy.FreezeEmbeddings(),
        "gradual" => FreezePolicy.GradualUnfreezing(everyEpochs: 1, startLayers: topLayers),
        _ => throw new ArgumentException($"Unknown policy '{name}'; use one of: {string.Join(", ", All)}."),
    };

    public static string Describe(string name, int topLayers) => name switch
    {
        "transfer" => "transfer learning (encoder frozen, head only)",
        "top-layers" => $"fine-tuning the top {topLayers} encoder layer{(topLayers == 1 ? "" : "s")} + head",
        "full" => "full fine-tuning",
        "frozen-embeddings" => "fine-tuning all but the embeddings",
        "gradual" => $"gradual unfreezing from {topLayers} layer{(topLayers == 1 ? "" : "s")}, one more per epoch",
        _ => name,
    };
}
