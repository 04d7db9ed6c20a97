using System.Text;
using System.Text.Json.Nodes;
using Bert.Sharp.Tests.TestSupport;

namespace Bert.Sharp.Tests.Tokenization;

/// <summary>
/// The real Hugging Face tokenizer (its Rust library through Tokenizers.DotNet), loaded from a tokenizer.json this
/// class writes for a vocabulary: WordPiece, BertNormalizer, BertPreTokenizer, BERT template. Test-only oracle.
/// </summary>
internal sealed class HuggingFaceOracle : IDisposable
{
    private static readonly Lazy<HuggingFaceOracle> UncasedLazy = new(() => new HuggingFaceOracle(TestAssets.UncasedVocabPath, lowercase: true, stripAccents: null, "uncased"));
    private static readonly Lazy<HuggingFaceOracle> CasedLazy = new(() => new HuggingFaceOracle(TestAssets.UncasedVocabPath, lowercase: false, stripAccents: null, "cased"));
    private static readonly Lazy<HuggingFaceOracle> CasedVocabLazy = new(() => new HuggingFaceOracle(CasedVocabulary.Path, lowercase: false, stripAccents: null, "cased-vocab"));

    private readonly Tokenizers.DotNet.Tokenizer _tokenizer;
    private readonly object _gate = new();

    public HuggingFaceOracle(string vocabPath, bool lowercase, bool? stripAccents, string name, bool handleChineseChars = true)
    {
        VocabPath = vocabPath;
        Options = new BertTokenizerOptions { DoLowerCase = lowercase, StripAccents = stripAccents, TokenizeChineseChars = handleChineseChars };
        TokenizerJsonPath = TestTemp.NewFilePath("oracle-" + name, ".json");
        File.WriteAllText(TokenizerJsonPath, BuildTokenizerJson(vocabPath, lowercase, stripAccents, handleChineseChars));
        _tokenizer = new Tokenizers.DotNet.Tokenizer(TokenizerJsonPath);
        Ours = BertTokenizer.FromVocabulary(vocabPath, Options);
    }

    /// <summary>bert-base-uncased settings (lower-case, strip accents) over the bert-base-uncased vocabulary.</summary>
    public static HuggingFaceOracle Uncased => UncasedLazy.Value;

    /// <summary>Cased settings (no lower-casing, no accent stripping) over the same vocabulary.</summary>
    public static HuggingFaceOracle Cased => CasedLazy.Value;

    /// <summary>Cased settings over a small cased vocabulary built for the tests.</summary>
    public static HuggingFaceOracle CasedSmallVocabulary => CasedVocabLazy.Value;

    public string VocabPath { get; }

    public string TokenizerJsonPath { get; }

    public BertTokenizerOptions Options { get; }

    /// <summary>Our tokenizer with the same settings.</summary>
    public BertTokenizer Ours { get; }

    /// <summary>Hugging Face's ids for <paramref name="text"/> with [CLS]/[SEP]. Lone surrogates are not valid
    /// UTF-16 for the Rust library: they are sent as U+FFFD, which is what our tokenizer promises to do.</summary>
    public int[] Encode(string text)
    {
        string valid = ReplaceLoneSurrogates(text);
        lock (_gate)
        {
            return _tokenizer.Encode(valid).Select(i => (int)i).ToArray();
        }
    }

    /// <summary>Hugging Face's ids for a pair: its template is [CLS] A [SEP] B [SEP] over the two encodings.</summary>
    public int[] EncodePair(string first, string second)
    {
        int[] a = Encode(first);
        int[] b = Encode(second);
        return a.Concat(b.Skip(1)).ToArray();
    }

    public string Decode(IEnumerable<int> ids)
    {
        lock (_gate)
        {
            return _tokenizer.Decode(ids.Select(i => (uint)i).ToArray());
        }
    }

    public void Dispose() => _tokenizer.Dispose();

    public static string ReplaceLoneSurrogates(string text)
    {
        var builder = new StringBuilder(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                builder.Append(c).Append(text[i + 1]);
                i++;
            }
            else
            {
                builder.Append(char.IsSurrogate(c) ? '\uFFFD' : c);
            }
        }

        return builder.ToString();
    }

    /// <summary>The tokenizer.json Hugging Face's BertTokenizerFast would save for this vocabulary and settings.</summary>
    public static string BuildTokenizerJson(string vocabPath, bool lowercase, bool? stripAccents, bool handleChineseChars)
    {
        string[] lines = File.ReadAllLines(vocabPath);
        var vocab = new JsonObject();
        for (int i = 0; i < lines.Length; i++)
        {
            vocab[lines[i].TrimEnd()] = i;
        }

        var added = new JsonArray();
        foreach (string token in new[] { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" })
        {
            added.Add(new JsonObject
            {
                ["id"] = Array.IndexOf(lines, token),
                ["content"] = token,
                ["single_word"] = false,
                ["lstrip"] = false,
                ["rstrip"] = false,
                ["normalized"] = false,
                ["special"] = true,
            });
        }

        static JsonObject Special(string id, int type) => new() { ["SpecialToken"] = new JsonObject { ["id"] = id, ["type_id"] = type } };
        static JsonObject Sequence(string id, int type) => new() { ["Sequence"] = new JsonObject { ["id"] = id, ["type_id"] = type } };
        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = new JsonObject
            {
                ["type"] = "BertNormalizer",
                ["clean_text"] = true,
                ["handle_chinese_chars"] = handleChineseChars,
                ["strip_accents"] = stripAccents,
                ["lowercase"] = lowercase,
            },
            ["pre_tokenizer"] = new JsonObject { ["type"] = "BertPreTokenizer" },
            ["post_processor"] = new JsonObject
            {
                ["type"] = "TemplateProcessing",
                ["single"] = new JsonArray(Special("[CLS]", 0), Sequence("A", 0), Special("[SEP]", 0)),
                ["pair"] = new JsonArray(Special("[CLS]", 0), Sequence("A", 0), Special("[SEP]", 0), Sequence("B", 1), Special("[SEP]", 1)),
                ["special_tokens"] = new JsonObject
                {
                    ["[CLS]"] = new JsonObject { ["id"] = "[CLS]", ["ids"] = new JsonArray(Array.IndexOf(lines, "[CLS]")), ["tokens"] = new JsonArray("[CLS]") },
                    ["[SEP]"] = new JsonObject { ["id"] = "[SEP]", ["ids"] = new JsonArray(Array.IndexOf(lines, "[SEP]")), ["tokens"] = new JsonArray("[SEP]") },
                },
            },
            ["decoder"] = new JsonObject { ["type"] = "WordPiece", ["prefix"] = "##", ["cleanup"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "WordPiece",
                ["unk_token"] = "[UNK]",
                ["continuing_subword_prefix"] = "##",
                ["max_input_chars_per_word"] = 100,
                ["vocab"] = vocab,
            },
        };
        return root.ToJsonString();
    }
}
