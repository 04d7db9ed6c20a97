using Bert.Sharp.Tokenization;

namespace Bert.Sharp;

/// <summary>
/// Picks the tokenizer of a model folder from its <c>tokenizer.json</c>, as Hugging Face's <c>AutoTokenizer</c> does:
/// WordPiece → <see cref="BertTokenizer"/>; byte-level BPE (RoBERTa, ModernBERT) and SentencePiece Unigram (XLM-RoBERTa)
/// → <see cref="SubwordTokenizer"/>.
/// </summary>
public static class AutoTokenizer
{
    /// <summary>Loads the tokenizer of <paramref name="folder"/> (a folder with <c>tokenizer.json</c>, or
    /// <c>vocab.txt</c> for WordPiece).</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="NotSupportedException">The file holds a model, normalizer, pre-tokenizer or option not
    /// reproduced exactly; the message names the file and the JSON key.</exception>
    /// <exception cref="InvalidDataException">A file is malformed; the message names it.</exception>
    public static IPretrainedTokenizer FromPretrained(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"Tokenizer folder '{folder}' does not exist.");
        }

        string json = Path.Combine(folder, TokenizerFiles.TokenizerJsonFile);
        if (!File.Exists(json) || TokenizerJsonReader.ModelType(json) == "WordPiece")
        {
            return BertTokenizer.FromPretrained(folder);
        }

        // The files are kept byte for byte so that a model saved with this tokenizer writes them back unchanged.
        var sources = new Dictionary<string, byte[]>(StringComparer.Ordinal) { [TokenizerFiles.TokenizerJsonFile] = File.ReadAllBytes(json) };
        foreach (string name in (string[])[TokenizerFiles.ConfigFile, TokenizerFiles.SpecialTokensMapFile])
        {
            string path = Path.Combine(folder, name);
            if (File.Exists(path))
            {
                sources[name] = File.ReadAllBytes(path);
            }
        }

        return new SubwordTokenizer(TokenizerJsonReader.Read(json), sources);
    }
}
