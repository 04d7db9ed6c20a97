using System.Text;
using Bert.Sharp.Tests.Checkpoints;
using Bert.Sharp.Tests.TestSupport;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Fuzzing;

/// <summary>The valid files each fuzzer mutates: tiny, so that 10,000 inputs per format run in seconds.</summary>
internal static class FuzzCorpus
{
    /// <summary>A tiny WordPiece vocabulary with every special token, whole words and continuation pieces.</summary>
    public static readonly string[] VocabularyLines =
    [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[unused0]", "!", ",", ".", "a", "b", "c", "e", "h", "l", "o", "r", "w",
        "the", "hello", "world", "un", "##aff", "##able", "##s", "##ing", "##l", "##o", "wö", "##rld", "x", "##x", "中",
    ];

    public static IReadOnlyList<byte[]> SafeTensors(string dir)
    {
        using var scope = NewDisposeScope();
        string a = Path.Combine(dir, "corpus-a.safetensors");
        global::Bert.Sharp.Checkpoints.SafeTensors.Save(a, new Dictionary<string, Tensor>
        {
            ["a"] = arange(6, ScalarType.Float32).reshape(2, 3),
            ["b"] = tensor(new[] { 1.5f, -2f, 0f, 3.25f }).to_type(ScalarType.Float16),
            ["c"] = tensor(new long[] { 7, -9 }),
        });
        string b = Path.Combine(dir, "corpus-b.safetensors");
        global::Bert.Sharp.Checkpoints.SafeTensors.Save(
            b,
            new Dictionary<string, Tensor>
            {
                ["encoder.w"] = ones(3, 2).to_type(ScalarType.BFloat16),
                ["mask"] = tensor(new[] { true, false, true }),
                ["u"] = tensor(new byte[] { 1, 2, 3, 4, 5 }),
                ["empty"] = zeros(0, 4),
                ["d"] = tensor(new[] { Math.PI }),
            },
            new Dictionary<string, string> { ["note"] = "fuzz corpus" });
        return [File.ReadAllBytes(a), File.ReadAllBytes(b)];
    }

    public static IReadOnlyList<byte[]> TorchZips()
    {
        byte[] real = File.ReadAllBytes(TorchSaveFixtureTests.Fixture("state_dict.pt.fixture"));
        using var writer = new TorchZipWriter();
        writer.AddStorage("0", new[] { 1f, 2f, 3f, 4f, 5f, 6f }.SelectMany(BitConverter.GetBytes).ToArray());
        writer.AddStorage("1", new byte[] { 0, 60, 0, 188 }); // float16 1, -1
        writer.WriteStateDict(
        [
            new("w", "FloatStorage", "0", 6, 0, [2, 3], [3, 1]),
            new("w.t", "FloatStorage", "0", 6, 0, [3, 2], [1, 3]),
            new("h", "HalfStorage", "1", 2, 0, [2], [1]),
        ]);
        return [real, writer.ToBytes()];
    }

    public static IReadOnlyList<byte[]> Vocabularies() =>
    [
        Encoding.UTF8.GetBytes(string.Join('\n', VocabularyLines) + "\n"),
        [.. Encoding.UTF8.Preamble, .. Encoding.UTF8.GetBytes(string.Join("\r\n", VocabularyLines.Reverse().Skip(1)) + "\r\n[UNK]  \r\n")],
    ];

    /// <summary>The tokenizer files of the tiny vocabulary as <see cref="BertTokenizer.SavePretrained"/> writes them.</summary>
    public static (byte[] TokenizerJson, byte[] TokenizerConfig, byte[] SpecialTokensMap) SavedTokenizer(string dir)
    {
        string vocab = Path.Combine(dir, "corpus-vocab.txt");
        File.WriteAllLines(vocab, VocabularyLines);
        string saved = Path.Combine(dir, "corpus-saved");
        BertTokenizer.FromVocabulary(vocab, new BertTokenizerOptions { ModelMaxLength = 128 }).SavePretrained(saved);
        return (
            File.ReadAllBytes(Path.Combine(saved, "tokenizer.json")),
            File.ReadAllBytes(Path.Combine(saved, "tokenizer_config.json")),
            File.ReadAllBytes(Path.Combine(saved, "special_tokens_map.json")));
    }

    public static IReadOnlyList<byte[]> TokenizerJsons(string dir)
    {
        byte[] saved = SavedTokenizer(dir).TokenizerJson;
        string vocab = string.Join(", ", VocabularyLines.Select((t, i) => $"{System.Text.Json.JsonSerializer.Serialize(t)}: {i}"));
        string huggingFace = """
            {"version": "1.0", "truncation": null, "padding": {"pad_token": "[PAD]"},
             "added_tokens": [{"id": 0, "content": "[PAD]", "special": true}, {"id": 5, "content": "[unused0]", "special": true, "lstrip": false}],
             "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": false},
             "pre_tokenizer": {"type": "BertPreTokenizer"},
             "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]},
             "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
             "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100, "vocab": {VOCAB}}}
            """.Replace("VOCAB", vocab, StringComparison.Ordinal);
        return [saved, Encoding.UTF8.GetBytes(huggingFace)];
    }

    public static IReadOnlyList<byte[]> TokenizerConfigs(string dir)
    {
        (_, byte[] config, byte[] map) = SavedTokenizer(dir);
        byte[] huggingFace = Encoding.UTF8.GetBytes("""
            {"added_tokens_decoder": {"0": {"content": "[PAD]", "lstrip": false, "normalized": false, "rstrip": false, "single_word": false, "special": true}},
             "clean_up_tokenization_spaces": true, "cls_token": {"content": "[CLS]", "__type": "AddedToken"}, "do_basic_tokenize": true,
             "do_lower_case": true, "mask_token": "[MASK]", "max_len": 512, "model_max_length": 1000000000000000019884624838656,
             "never_split": null, "pad_token": "[PAD]", "sep_token": "[SEP]", "strip_accents": null, "tokenize_chinese_chars": true,
             "tokenizer_class": "BertTokenizer", "unk_token": "[UNK]"}
            """);
        return [config, map, huggingFace];
    }

    public static IReadOnlyList<byte[]> Configs()
    {
        string tiny = (TinyConfigs.Bert() with { Id2Label = new Dictionary<int, string> { [0] = "neg", [1] = "pos" } }).ToJson();
        const string HuggingFace = """
            {"_name_or_path": "bert-base-uncased", "architectures": ["BertForMaskedLM"], "attention_probs_dropout_prob": 0.1,
             "classifier_dropout": null, "gradient_checkpointing": false, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
             "hidden_size": 768, "initializer_range": 0.02, "intermediate_size": 3072, "layer_norm_eps": 1e-12,
             "max_position_embeddings": 512, "model_type": "bert", "num_attention_heads": 12, "num_hidden_layers": 12,
             "pad_token_id": 0, "position_embedding_type": "absolute", "transformers_version": "4.6.0.dev0",
             "type_vocab_size": 2, "use_cache": true, "vocab_size": 30522}
            """;
        return [Encoding.UTF8.GetBytes(tiny), Encoding.UTF8.GetBytes(HuggingFace)];
    }
}
