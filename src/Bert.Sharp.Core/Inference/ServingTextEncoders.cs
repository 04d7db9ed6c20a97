using System.Text.Json;
using Bert.Sharp.Tokenization;

namespace Bert.Sharp.Inference;

/// <summary>
/// Picks the serving tokenizer of a model folder as <see cref="AutoTokenizer"/> does: a <c>tokenizer.json</c> of a byte-level
/// BPE or Unigram model (RoBERTa, XLM-R) gives a <see cref="SubwordTextEncoder"/>; WordPiece (<c>tokenizer.json</c> or
/// <c>vocab.txt</c>) a <see cref="TokenizerTextEncoder"/> over <see cref="BertTokenizer"/>.
/// </summary>
internal static class ServingTextEncoders
{
    /// <summary>Loads the tokenizer of <paramref name="directoryOrModelId"/> for serving or training.</summary>
    /// <param name="directoryOrModelId">The folder holding the tokenizer files (or a Hub id).</param>
    /// <param name="padTokenId">The model's <c>pad_token_id</c>: what a subword tokenizer pads with (WordPiece keeps its own [PAD]).</param>
    /// <param name="hub">How a Hub id is fetched.</param>
    /// <exception cref="NotSupportedException">The <c>tokenizer.json</c> holds something not reproduced exactly; the message names the file and key.</exception>
    /// <exception cref="FileNotFoundException">No tokenizer files.</exception>
    public static IServingTextEncoder Load(string directoryOrModelId, int padTokenId, PretrainedResolveOptions? hub = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directoryOrModelId);
        string directory = Directory.Exists(directoryOrModelId) ? directoryOrModelId : PretrainedResolver.ResolveDirectory(directoryOrModelId, hub);
        if (IsSubword(directory))
        {
            var tokenizer = (SubwordTokenizer)AutoTokenizer.FromPretrained(directory);
            return new SubwordTextEncoder(tokenizer, padTokenId, tokenizer.ModelMaxLength);
        }

        return new TokenizerTextEncoder(BertTokenizer.FromPretrained(directory, hub));
    }

    /// <summary>Whether <paramref name="directory"/> holds a subword (non-WordPiece) <c>tokenizer.json</c>.</summary>
    public static bool IsSubword(string directory)
    {
        string json = Path.Combine(directory, TokenizerFiles.TokenizerJsonFile);
        return File.Exists(json) && TokenizerJsonReader.ModelType(json) != "WordPiece";
    }
}
