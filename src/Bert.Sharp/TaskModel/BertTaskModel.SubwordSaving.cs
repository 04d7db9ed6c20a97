using Bert.Sharp.IO;
using Bert.Sharp.Tokenization;

namespace Bert.Sharp;

// Saving a RoBERTa / XLM-R model with the tokenizer.json tokenizer it was trained with.
public abstract partial class BertTaskModel
{
    /// <summary>
    /// Writes the model as <see cref="SavePretrained(string, BertTokenizer?)"/> does, with the <see cref="SubwordTokenizer"/>
    /// it was trained with beside it: <c>tokenizer.json</c> (the file the tokenizer was read from, byte for byte),
    /// <c>tokenizer_config.json</c> and <c>special_tokens_map.json</c> (the tokenizer folder's own when it had them, otherwise
    /// written for the family: <c>RobertaTokenizer</c> / <c>XLMRobertaTokenizer</c> with the template's special tokens and
    /// the model's <c>pad_token_id</c>). The folder then loads with <see cref="AutoTokenizer.FromPretrained"/>,
    /// <see cref="TextClassifier"/> and transformers' <c>AutoTokenizer</c>.
    /// </summary>
    /// <param name="directory">The folder (created when missing).</param>
    /// <param name="tokenizer">The tokenizer the model was trained with (from <see cref="AutoTokenizer.FromPretrained"/>).</param>
    /// <exception cref="InvalidOperationException">The tokenizer files cannot be written (no <c>tokenizer.json</c> held, or the
    /// model's <c>pad_token_id</c> or a template token is not in it); the message names the folder, file and token. Nothing is
    /// written then.</exception>
    public void SavePretrained(string directory, SubwordTokenizer tokenizer)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(tokenizer);
        BertConfig config = Bert.Config;
        SubwordTokenizerFiles files = SubwordTokenizerFiles.For(tokenizer, config.PadTokenId, config.MaxSequenceLength, directory);
        SavePretrained(directory, (BertTokenizer?)null);
        var writer = new ModelFolderWriter(directory);
        files.AddTo(writer);
        writer.Commit();
    }
}
