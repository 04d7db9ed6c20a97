using Bert.Sharp;

namespace SentimentAnalysis;

/// <summary>
/// The tokenizer of the model folder, picked as Hugging Face's <c>AutoTokenizer</c> does (WordPiece for BERT and DistilBERT,
/// the <c>tokenizer.json</c> byte-level BPE of RoBERTa or Unigram of XLM-R), and the trainer and save that go with it.
/// </summary>
internal sealed class ModelTokenizer(IPretrainedTokenizer tokenizer)
{
    public static ModelTokenizer FromPretrained(string modelDirectory) => new(AutoTokenizer.FromPretrained(modelDirectory));

    /// <summary>What kind of tokenizer the folder has, for the console.</summary>
    public string Kind => tokenizer switch
    {
        SubwordTokenizer subword => subword.Kind.ToString(),
        _ => "WordPiece",
    };

    public FineTuner CreateTuner(BertForSequenceClassification model, FineTuningOptions options) => tokenizer switch
    {
        SubwordTokenizer subword => new FineTuner(model, subword, options),
        BertTokenizer wordPiece => new FineTuner(model, wordPiece, options),
        _ => throw new NotSupportedException($"Tokenizer {tokenizer.GetType().Name} is not one the sample trains with."),
    };

    /// <summary>Saves the model with its tokenizer files, so the folder serves on its own.</summary>
    public void Save(BertForSequenceClassification model, string directory)
    {
        if (tokenizer is SubwordTokenizer subword)
        {
            model.SavePretrained(directory, subword);
        }
        else
        {
            model.SavePretrained(directory, (BertTokenizer)tokenizer);
        }
    }
}
