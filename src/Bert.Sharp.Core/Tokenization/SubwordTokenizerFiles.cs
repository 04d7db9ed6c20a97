using System.Globalization;
using System.Text;
using System.Text.Json;
using Bert.Sharp.IO;

namespace Bert.Sharp.Tokenization;

/// <summary>
/// The tokenizer files a model saved with a <see cref="SubwordTokenizer"/> carries, as transformers expects for the family:
/// <c>tokenizer.json</c> (the file read, byte for byte), <c>tokenizer_config.json</c> and <c>special_tokens_map.json</c> (the
/// files read when the folder had them; otherwise written from the template and added tokens, with <c>tokenizer_class</c>
/// <c>RobertaTokenizer</c> for byte-level BPE and <c>XLMRobertaTokenizer</c> for Unigram). Nothing is guessed: a token the
/// files must name and the tokenizer cannot give is refused before anything is written.
/// </summary>
internal sealed class SubwordTokenizerFiles
{
    private readonly Dictionary<string, byte[]> files = new(StringComparer.Ordinal);

    private SubwordTokenizerFiles()
    {
    }

    /// <summary>The files, by name.</summary>
    public IReadOnlyDictionary<string, byte[]> Files => files;

    /// <summary>Prepares the files of <paramref name="tokenizer"/> for a model whose <c>pad_token_id</c> is
    /// <paramref name="padTokenId"/> and whose inputs are at most <paramref name="modelMaxLength"/> tokens.</summary>
    /// <param name="tokenizer">The tokenizer the model was trained with.</param>
    /// <param name="padTokenId">The model's <c>pad_token_id</c>.</param>
    /// <param name="modelMaxLength">The tokenizer config's <c>model_max_length</c> when it is written here.</param>
    /// <param name="directory">The folder being saved (named in errors).</param>
    /// <exception cref="InvalidOperationException">The tokenizer was not read from a <c>tokenizer.json</c>, or a special
    /// token the config must name is not in it; the message names the folder, file and token.</exception>
    public static SubwordTokenizerFiles For(SubwordTokenizer tokenizer, int padTokenId, int modelMaxLength, string directory)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var result = new SubwordTokenizerFiles();
        if (!tokenizer.SourceFiles.TryGetValue(TokenizerFiles.TokenizerJsonFile, out byte[]? json))
        {
            throw new InvalidOperationException(
                $"Cannot save the tokenizer into '{directory}': the {nameof(SubwordTokenizer)} holds no {TokenizerFiles.TokenizerJsonFile} to write (load it with {nameof(AutoTokenizer)}.{nameof(AutoTokenizer.FromPretrained)}).");
        }

        result.files[TokenizerFiles.TokenizerJsonFile] = json;
        bool hasConfig = tokenizer.SourceFiles.TryGetValue(TokenizerFiles.ConfigFile, out byte[]? config);
        bool hasMap = tokenizer.SourceFiles.TryGetValue(TokenizerFiles.SpecialTokensMapFile, out byte[]? map);
        if (hasConfig && hasMap)
        {
            result.files[TokenizerFiles.ConfigFile] = config!;
            result.files[TokenizerFiles.SpecialTokensMapFile] = map!;
            return result;
        }

        List<(string Key, string Token)> specials = SpecialTokens(tokenizer, padTokenId, directory);
        result.files[TokenizerFiles.SpecialTokensMapFile] = map ?? Json(writer =>
        {
            writer.WriteStartObject();
            foreach ((string key, string token) in specials)
            {
                writer.WriteString(key, token);
            }

            writer.WriteEndObject();
        });
        result.files[TokenizerFiles.ConfigFile] = config ?? Json(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("tokenizer_class", tokenizer.Kind == TokenizerKind.ByteLevelBpe ? "RobertaTokenizer" : "XLMRobertaTokenizer");
            if (tokenizer.Kind == TokenizerKind.ByteLevelBpe)
            {
                writer.WriteBoolean("add_prefix_space", tokenizer.Parts.AddPrefixSpace);
            }

            writer.WriteNumber("model_max_length", modelMaxLength);
            writer.WriteBoolean("clean_up_tokenization_spaces", false);
            foreach ((string key, string token) in specials)
            {
                writer.WriteString(key, token);
            }

            writer.WriteEndObject();
        });
        return result;
    }

    /// <summary>Adds the files to a model folder save.</summary>
    public void AddTo(ModelFolderWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        foreach ((string name, byte[] bytes) in files)
        {
            writer.Add(name, stream => stream.Write(bytes));
        }
    }

    // bos/cls from the template's first token, eos/sep from its last, pad from the model's pad_token_id, unk from the
    // Unigram model (or an added "<unk>"), mask from an added special token named like one.
    private static List<(string Key, string Token)> SpecialTokens(SubwordTokenizer tokenizer, int padTokenId, string directory)
    {
        TokenizerModelParts parts = tokenizer.Parts;
        string Require(int[] ids, bool first, string role)
        {
            if (ids.Length == 0)
            {
                throw new InvalidOperationException(
                    $"Cannot write {TokenizerFiles.ConfigFile} into '{directory}': the {TokenizerFiles.TokenizerJsonFile} post-processor adds no {role} token around a single sequence.");
            }

            int id = first ? ids[0] : ids[^1];
            return tokenizer.IdToToken(id)
                ?? throw new InvalidOperationException($"Cannot write {TokenizerFiles.ConfigFile} into '{directory}': the {role} token id {id} of the post-processor is not in {TokenizerFiles.TokenizerJsonFile}.");
        }

        string cls = Require(parts.Template.SinglePrefix, first: true, "cls/bos");
        string sep = Require(parts.Template.SingleSuffix, first: false, "sep/eos");
        string pad = tokenizer.IdToToken(padTokenId)
            ?? throw new InvalidOperationException(
                $"Cannot write {TokenizerFiles.ConfigFile} into '{directory}': the model's pad_token_id {padTokenId.ToString(CultureInfo.InvariantCulture)} is not a token of {TokenizerFiles.TokenizerJsonFile} (vocabulary of {tokenizer.VocabularySize}).");
        string? unk = parts.Unigram is { } unigram ? tokenizer.IdToToken(unigram.UnknownId) : null;
        unk ??= parts.AddedTokens.FirstOrDefault(t => t.Content == "<unk>")?.Content;
        string? mask = parts.AddedTokens.FirstOrDefault(t => t.Special && t.Content.Contains("mask", StringComparison.OrdinalIgnoreCase))?.Content;
        var list = new List<(string, string)> { ("bos_token", cls), ("eos_token", sep) };
        if (unk is not null)
        {
            list.Add(("unk_token", unk));
        }

        list.Add(("sep_token", sep));
        list.Add(("pad_token", pad));
        list.Add(("cls_token", cls));
        if (mask is not null)
        {
            list.Add(("mask_token", mask));
        }

        return list;
    }

    private static byte[] Json(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            write(writer);
        }

        return stream.ToArray();
    }
}
