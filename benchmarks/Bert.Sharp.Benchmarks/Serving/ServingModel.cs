using Bert.Sharp.Models;

namespace Bert.Sharp.Benchmarks.Serving;

/// <summary>
/// The classifier folder the serving benchmark serves: the given one, else the sentiment sample's
/// <c>output/sentiment/model</c>, else all-MiniLM-L6-v2 with a seeded random head (same cost per forward; the labels
/// mean nothing, which a throughput benchmark does not mind).
/// </summary>
internal static class ServingModel
{
    public static (string Directory, string Description) Resolve(string? requested, string repositoryRoot)
    {
        if (requested is not null)
        {
            return (requested, requested);
        }

        string sentiment = Path.Combine(repositoryRoot, "output", "sentiment", "model");
        if (File.Exists(Path.Combine(sentiment, "config.json")))
        {
            return (sentiment, "sentiment model (output/sentiment/model)");
        }

        string miniLm = MiniLmModel.EnsureImported();
        string directory = Path.Combine(Path.GetTempPath(), "bert-sharp-bench", "minilm-seeded-head");
        if (!File.Exists(Path.Combine(directory, "config.json")))
        {
            TorchSharp.torch.manual_seed(42);
            using BertForSequenceClassification model = BertForSequenceClassification.FromPretrained(miniLm, ["negative", "positive"]);
            model.SavePretrained(directory, BertTokenizer.FromPretrained(miniLm));
        }

        return (directory, "all-MiniLM-L6-v2 with a seeded head (no output/sentiment/model)");
    }
}
