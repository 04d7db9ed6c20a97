using Bert.Sharp.Tests.TestSupport;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Tasks;

/// <summary>
/// <see cref="TokenClassifier"/> maps entities back to the caller's text: offsets index the original string (accents,
/// decomposed characters, runs of spaces, tabs, emoji and CJK included), never the lower-cased, accent-stripped text the
/// model saw. The head is fixed (zero weights, one large bias) so the tags are known without training.
/// </summary>
public sealed class TokenClassifierOffsetTests : IDisposable
{
    private const string Text = "  Zoë  bought   a café-au-lait in Montréal,\tça coûte 5€ 😀 東京!";

    // The words BERT's pre-tokenizer makes of Text: split on whitespace and punctuation, every CJK character alone.
    private static readonly string[] Words = ["Zoë", "bought", "a", "café", "-", "au", "-", "lait", "in", "Montréal", ",", "ça", "coûte", "5€", "😀", "東", "京", "!"];

    private static readonly string[] Tags = ["O", "B-X", "I-X"];

    private readonly string directory = TestTemp.NewDirectory("token-offsets");

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void Bfloat16_prediction_finds_the_same_entities_and_float16_is_refused_on_the_cpu()
    {
        using TokenClassifier plain = Tagger("B-X", AggregationStrategy.First);
        using TokenClassifier mixed = TokenClassifier.FromPretrained(directory, new TokenClassifierOptions { Precision = InferencePrecision.BFloat16 });
        Assert.Equal(InferencePrecision.Float32, plain.Precision);
        Assert.Equal(InferencePrecision.BFloat16, mixed.Precision);
        IReadOnlyList<Entity> a = plain.Predict(Text), b = mixed.Predict(Text);
        Assert.Equal(a.Select(e => (e.Start, e.End, e.Group)), b.Select(e => (e.Start, e.End, e.Group)));
        Assert.All(a.Zip(b), pair => Assert.Equal(pair.First.Score, pair.Second.Score, 2));

        var error = Assert.Throws<ArgumentException>(() => TokenClassifier.FromPretrained(directory, new TokenClassifierOptions { Precision = InferencePrecision.Float16 }));
        Assert.Contains("TokenClassifierOptions.Precision", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new TokenClassifierOptions { Precision = (InferencePrecision)7 }.Validate());
    }

    [Fact]
    public void First_aggregation_gives_every_word_with_offsets_into_the_original_text()
    {
        using TokenClassifier tagger = Tagger("B-X", AggregationStrategy.First);
        IReadOnlyList<Entity> entities = tagger.Predict(Text);

        List<(int Start, int End)> expected = Spans(Text, Words);
        Assert.Equal(expected, entities.Select(e => (e.Start, e.End)));
        Assert.Equal(Words, entities.Select(e => e.Text));
        Assert.All(entities, e => Assert.Equal(Text[e.Start..e.End], e.Text));
        Assert.All(entities, e => Assert.Equal("X", e.Group));
        float score = MathF.Exp(10) / (MathF.Exp(10) + 2);
        Assert.All(entities, e => Assert.Equal(score, e.Score, 5));
    }

    [Fact]
    public void Simple_aggregation_of_continuations_spans_the_text_with_its_spaces_and_accents()
    {
        using TokenClassifier tagger = Tagger("I-X", AggregationStrategy.Simple);
        Entity entity = Assert.Single(tagger.Predict(Text));
        Assert.Equal(2, entity.Start);
        Assert.Equal(Text.Length, entity.End);
        Assert.Equal(Text[2..], entity.Text);
    }

    [Fact]
    public void Decomposed_accents_and_a_batch_of_texts_keep_their_own_offsets()
    {
        using TokenClassifier tagger = Tagger("B-X", AggregationStrategy.First);
        string decomposed = "Cafe\u0301   Noe\u0308l";  // "Café   Noël" in NFD: each accent is its own character
        string plain = "one two";
        IReadOnlyList<IReadOnlyList<Entity>> batch = tagger.PredictBatch([plain, decomposed, Text]);

        Assert.Equal(["one", "two"], batch[0].Select(e => e.Text));
        Assert.Equal(Spans(Text, Words), batch[2].Select(e => (e.Start, e.End)));

        // Hugging Face's sub-word heuristic (a piece whose text is shorter than its characters) may join the decomposed
        // words into one entity; whatever the grouping, offsets quote the text and never cut a base letter from its accent.
        Assert.NotEmpty(batch[1]);
        Assert.All(batch[1], e => Assert.Equal(decomposed[e.Start..e.End], e.Text));
        foreach ((int start, int end) in Spans(decomposed, ["Cafe\u0301", "Noe\u0308l"]))
        {
            Assert.Contains(batch[1], e => e.Start <= start && e.End >= end);
        }

        Assert.All(batch[1], e => Assert.False(e.End < decomposed.Length && char.GetUnicodeCategory(decomposed[e.End]) == System.Globalization.UnicodeCategory.NonSpacingMark, $"entity '{e.Text}' ends before a combining mark"));
    }

    private static List<(int Start, int End)> Spans(string text, IEnumerable<string> words)
    {
        var spans = new List<(int, int)>();
        int cursor = 0;
        foreach (string word in words)
        {
            int start = text.IndexOf(word, cursor, StringComparison.Ordinal);
            Assert.True(start >= 0, $"'{word}' not found after {cursor}");
            spans.Add((start, start + word.Length));
            cursor = start + word.Length;
        }

        return spans;
    }

    // A random tiny encoder with a head that ignores it: every token gets `tag` with logit 10, the others 0.
    private TokenClassifier Tagger(string tag, AggregationStrategy aggregation)
    {
        BertTokenizer tokenizer = BertTokenizer.FromVocabulary(TestAssets.UncasedVocabPath);
        TorchSharp.torch.manual_seed(3);
        using (var model = new BertForTokenClassification(TinyConfigs.Bert(vocab: tokenizer.VocabularySize, maxPositions: 128), Tags))
        {
            using (no_grad())
            {
                model.Head.Weight.zero_();
                model.Head.Bias.zero_();
                model.Head.Bias[Array.IndexOf(Tags, tag)] = 10f;
            }

            model.SavePretrained(directory, tokenizer);
        }

        return TokenClassifier.FromPretrained(directory, new TokenClassifierOptions { Aggregation = aggregation });
    }
}
