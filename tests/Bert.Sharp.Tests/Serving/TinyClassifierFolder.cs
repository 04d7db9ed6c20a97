using Bert.Sharp.Tests.TestSupport;

namespace Bert.Sharp.Tests.Serving;

/// <summary>
/// A tiny random-weight sentiment classifier folder (2 layers, hidden 32, the real uncased vocabulary), saved once per
/// test run: loads in milliseconds, so HTTP and batching tests serve a real <see cref="TextClassifier"/>.
/// </summary>
internal static class TinyClassifierFolder
{
    private static readonly Lazy<string> Folder = new(() =>
    {
        BertTokenizer tokenizer = BertTokenizer.FromVocabulary(TestAssets.UncasedVocabPath);
        string dir = TestTemp.NewDirectory("tiny-classifier");
        using var model = SeededWeights.Apply(new BertForSequenceClassification(TinyConfigs.Bert(vocab: tokenizer.VocabularySize, maxPositions: 128), ["negative", "positive"]), 7);
        model.SavePretrained(dir, tokenizer);
        return dir;
    });

    public static string Create() => Folder.Value;
}
