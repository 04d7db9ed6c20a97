using System.Text.Json;
using System.Text.Json.Nodes;
using Bert.Sharp.IO;
using Microsoft.Extensions.Logging;

namespace Bert.Sharp.Onnx;

/// <summary>
/// Writes the tokenizer files of a Hugging Face BERT directory: <c>vocab.txt</c> (copied), <c>tokenizer_config.json</c>
/// and <c>special_tokens_map.json</c>, each atomically.
/// </summary>
internal static partial class TokenizerFiles
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static void Write(string directory, string? vocabPath, BertConfig config, ILogger logger)
    {
        bool lowerCase = true;
        if (vocabPath is not null)
        {
            string[] tokens = File.ReadAllLines(vocabPath);
            if (tokens.Length != config.VocabSize)
            {
                LogVocabSize(logger, vocabPath, tokens.Length, config.VocabSize);
            }

            // A cased vocabulary (bert-base-cased) has thousands of word pieces with ASCII capitals; an uncased one has
            // none outside the [SPECIAL] tokens (a few symbols such as U+211D count as upper case, hence ASCII only).
            int capitalised = tokens.Count(t => !(t.StartsWith('[') && t.EndsWith(']')) && t.Any(c => c is >= 'A' and <= 'Z'));
            lowerCase = capitalised < 100;
            AtomicFile.Write(Path.Combine(directory, "vocab.txt"), stream =>
            {
                using FileStream input = File.OpenRead(vocabPath);
                input.CopyTo(stream);
            });
        }

        var special = new JsonObject
        {
            ["unk_token"] = "[UNK]",
            ["sep_token"] = "[SEP]",
            ["pad_token"] = "[PAD]",
            ["cls_token"] = "[CLS]",
            ["mask_token"] = "[MASK]",
        };
        var tokenizerConfig = new JsonObject
        {
            ["do_lower_case"] = lowerCase,
            ["strip_accents"] = null,
            ["tokenize_chinese_chars"] = true,
            ["model_max_length"] = config.MaxPositionEmbeddings,
            ["tokenizer_class"] = "BertTokenizer",
        };
        foreach ((string key, JsonNode? value) in special)
        {
            tokenizerConfig[key] = value!.DeepClone();
        }

        AtomicFile.WriteAllText(Path.Combine(directory, "tokenizer_config.json"), tokenizerConfig.ToJsonString(Indented));
        AtomicFile.WriteAllText(Path.Combine(directory, "special_tokens_map.json"), special.ToJsonString(Indented));
    }

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "'{VocabPath}' has {Tokens} tokens but the model's vocab_size is {VocabSize}")]
    private static partial void LogVocabSize(ILogger logger, string vocabPath, int tokens, int vocabSize);
}
