using Bert.Sharp.Models;
using Bert.Sharp.Tests.TestSupport;

namespace Bert.Sharp.Tests.Onnx;

public sealed class MiniLmModelTests : IDisposable
{
    private readonly string root = TestAssets.NewTempDirectory("minilm-cache");

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public async Task EnsureImported_imports_once_then_reuses_the_directory_and_survives_a_race()
    {
        string target = Path.Combine(root, "models", MiniLmModel.Name);

        // Two importers racing for the same empty cache.
        string[] results = await Task.WhenAll(
            Task.Run(() => MiniLmModel.EnsureImported(target)),
            Task.Run(() => MiniLmModel.EnsureImported(target)));
        Assert.All(results, r => Assert.Equal(target, r));
        foreach (string file in new[] { "config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json" })
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
}
