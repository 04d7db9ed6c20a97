using System.Text.Json;
using System.Text.Json.Nodes;

namespace Bert.Sharp.Tools.MiniLmConverter;

/// <summary>
/// The sentence-transformers side of all-MiniLM-L6-v2, as sentence-transformers/all-MiniLM-L6-v2 ships it on the
/// Hugging Face Hub: Transformer (the folder itself) → mean Pooling (<c>1_Pooling</c>) → Normalize (<c>2_Normalize</c>,
/// a module without files, so no folder), at most 256 word pieces. Readers of the folder take the pooling from
/// <c>1_Pooling/config.json</c>, as sentence-transformers does.
/// </summary>
internal static class SentenceTransformersFiles
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static IReadOnlyList<string> Write(string directory, int hiddenSize, int maxSequenceLength)
    {
        var modules = new JsonArray(
            Module(0, "", "sentence_transformers.models.Transformer"),
            Module(1, "1_Pooling", "sentence_transformers.models.Pooling"),
            Module(2, "2_Normalize", "sentence_transformers.models.Normalize"));
        var pooling = new JsonObject
        {
            ["word_embedding_dimension"] = hiddenSize,
            ["pooling_mode_cls_token"] = false,
            ["pooling_mode_mean_tokens"] = true,
            ["pooling_mode_max_tokens"] = false,
            ["pooling_mode_mean_sqrt_len_tokens"] = false,
        };
        var sentenceBert = new JsonObject
        {
            ["max_seq_length"] = maxSequenceLength,
            ["do_lower_case"] = false,
        };

        // The versions the published model was saved with (sentence-transformers/all-MiniLM-L6-v2).
        var versions = new JsonObject
        {
            ["__version__"] = new JsonObject
            {
                ["sentence_transformers"] = "2.0.0",
                ["transformers"] = "4.6.1",
                ["pytorch"] = "1.8.1",
            },
        };

        var written = new List<string>();
        void Save(string relative, JsonNode node)
        {
            string path = Path.Combine(directory, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, node.ToJsonString(Indented) + "\n");
            written.Add(relative);
        }

        Save("modules.json", modules);
        Save(Path.Combine("1_Pooling", "config.json"), pooling);
        Save("sentence_bert_config.json", sentenceBert);
        Save("config_sentence_transformers.json", versions);
        return written;
    }

    private static JsonObject Module(int index, string path, string type) => new()
    {
        ["idx"] = index,
        ["name"] = index.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["path"] = path,
        ["type"] = type,
    };
}
