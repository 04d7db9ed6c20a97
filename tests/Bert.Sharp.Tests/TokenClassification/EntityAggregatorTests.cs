using Bert.Sharp.TokenClassification;

namespace Bert.Sharp.Tests.TokenClassification;

/// <summary>Hand-worked examples of Hugging Face's aggregation strategies.</summary>
public class EntityAggregatorTests
{
    private const float Tolerance = 1e-6f;
    private const string Text = "Enzo works at Microsoft in Paris";
    private static readonly string[] Labels = ["O", "B-ORG", "I-ORG", "B-PER", "I-PER", "B-LOC", "I-LOC"];

    // Label ids: O 0, B-ORG 1, I-ORG 2, B-PER 3, I-PER 4, B-LOC 5, I-LOC 6.
    private static readonly TokenPrediction[] Tokens =
    [
        new("[CLS]", 0, 0, true, false, P((3, 0.99f), (0, 0.01f))),
        new("en", 0, 2, false, false, P((3, 0.9f), (0, 0.1f))),
        new("##zo", 2, 4, false, true, P((4, 0.8f), (0, 0.2f))),
        new("works", 5, 10, false, false, P((0, 0.99f), (3, 0.01f))),
        new("at", 11, 13, false, false, P((0, 0.98f), (5, 0.02f))),
        new("micro", 14, 19, false, false, P((0, 0.05f), (1, 0.5f), (3, 0.45f))),
        new("##soft", 19, 23, false, true, P((0, 0.05f), (1, 0.35f), (4, 0.6f))),
        new("in", 24, 26, false, false, P((0, 0.9f), (5, 0.1f))),
        new("paris", 27, 32, false, false, P((0, 0.05f), (5, 0.95f))),
        new("[SEP]", 32, 32, true, false, P((5, 1f))),
    ];

    private static float[] P(params (int Id, float P)[] values)
    {
        float[] p = new float[Labels.Length];
        foreach ((int id, float value) in values)
        {
            p[id] = value;
        }

        return p;
    }

    private static IReadOnlyList<Entity> Run(AggregationStrategy strategy, IReadOnlyList<TokenPrediction>? tokens = null, string text = Text, IReadOnlyList<string>? labels = null, IReadOnlyCollection<string>? ignore = null) =>
        EntityAggregator.Aggregate(text, tokens ?? Tokens, labels ?? Labels, strategy, ignore);

    private static void AssertEntities(IReadOnlyList<Entity> actual, params (string Group, string Text, int Start, int End, float Score)[] expected)
    {
        Assert.Equal(expected.Length, actual.Count);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal((expected[i].Group, expected[i].Text, expected[i].Start, expected[i].End), (actual[i].Group, actual[i].Text, actual[i].Start, actual[i].End));
            Assert.Equal(expected[i].Score, actual[i].Score, Tolerance);
        }
    }

    [Fact]
    public void None_returns_every_non_O_piece_with_its_raw_label_and_skips_special_tokens()
    {
        AssertEntities(
            Run(AggregationStrategy.None),
            ("B-PER", "En", 0, 2, 0.9f),
            ("I-PER", "zo", 2, 4, 0.8f),
            ("B-ORG", "Micro", 14, 19, 0.5f),
            ("I-PER", "soft", 19, 23, 0.6f),
            ("B-LOC", "Paris", 27, 32, 0.95f));
    }

    [Fact]
    public void Simple_merges_pieces_by_label_and_can_split_a_word()
    {
        AssertEntities(
            Run(AggregationStrategy.Simple),
            ("PER", "Enzo", 0, 4, 0.85f),
            ("ORG", "Micro", 14, 19, 0.5f),
            ("PER", "soft", 19, 23, 0.6f),
            ("LOC", "Paris", 27, 32, 0.95f));
    }

    [Fact]
    public void First_gives_each_word_its_first_piece_label()
    {
        AssertEntities(
            Run(AggregationStrategy.First),
            ("PER", "Enzo", 0, 4, 0.9f),
            ("ORG", "Microsoft", 14, 23, 0.5f),
            ("LOC", "Paris", 27, 32, 0.95f));
    }

    [Fact]
    public void Max_gives_each_word_the_label_of_its_most_confident_piece()
    {
        // ##soft (0.6) beats micro (0.5): the word is I-PER, a new PER group after "at" (O).
        AssertEntities(
            Run(AggregationStrategy.Max),
            ("PER", "Enzo", 0, 4, 0.9f),
            ("PER", "Microsoft", 14, 23, 0.6f),
            ("LOC", "Paris", 27, 32, 0.95f));
    }

    [Fact]
    public void Average_gives_each_word_the_best_mean_probability()
    {
        // Microsoft: O 0.05, B-ORG (0.5 + 0.35) / 2 = 0.425, B-PER 0.225, I-PER 0.3. Enzo: B-PER 0.45, I-PER 0.4, O 0.15.
        AssertEntities(
            Run(AggregationStrategy.Average),
            ("PER", "Enzo", 0, 4, 0.45f),
            ("ORG", "Microsoft", 14, 23, 0.425f),
            ("LOC", "Paris", 27, 32, 0.95f));
    }

    [Fact]
    public void O_groups_are_merged_and_dropped_unless_not_ignored()
    {
        AssertEntities(
            Run(AggregationStrategy.First, ignore: []),
            ("PER", "Enzo", 0, 4, 0.9f),
            ("O", "works at", 5, 13, 0.985f),
            ("ORG", "Microsoft", 14, 23, 0.5f),
            ("O", "in", 24, 26, 0.9f),
            ("LOC", "Paris", 27, 32, 0.95f));
        Assert.DoesNotContain(Run(AggregationStrategy.First, ignore: ["LOC"]), e => e.Group == "LOC");
        Assert.Contains(Run(AggregationStrategy.First, ignore: ["LOC"]), e => e.Group == "O");
    }

    [Fact]
    public void Adjacent_entities_of_one_type_stay_apart_after_a_B_and_merge_after_an_I()
    {
        const string text = "Anna Bob";
        string[] labels = ["O", "B-PER", "I-PER"];
        TokenPrediction[] twoPeople =
        [
            new("anna", 0, 4, false, false, [0.1f, 0.9f, 0f]),
            new("bob", 5, 8, false, false, [0.2f, 0.8f, 0f]),
        ];
        AssertEntities(Run(AggregationStrategy.Simple, twoPeople, text, labels), ("PER", "Anna", 0, 4, 0.9f), ("PER", "Bob", 5, 8, 0.8f));
        AssertEntities(Run(AggregationStrategy.First, twoPeople, text, labels), ("PER", "Anna", 0, 4, 0.9f), ("PER", "Bob", 5, 8, 0.8f));

        TokenPrediction[] onePerson =
        [
            new("anna", 0, 4, false, false, [0.1f, 0.9f, 0f]),
            new("bob", 5, 8, false, false, [0.2f, 0f, 0.8f]),
        ];
        AssertEntities(Run(AggregationStrategy.Simple, onePerson, text, labels), ("PER", "Anna Bob", 0, 8, 0.85f));

        // I-X after another type starts a new group; an I-X first in the text starts one too.
        TokenPrediction[] switched =
        [
            new("anna", 0, 4, false, false, [0f, 0f, 0.7f, 0.3f]),
            new("bob", 5, 8, false, false, [0f, 0f, 0.1f, 0.9f]),
        ];
        AssertEntities(Run(AggregationStrategy.Simple, switched, text, ["O", "B-PER", "I-PER", "I-LOC"]), ("PER", "Anna", 0, 4, 0.7f), ("LOC", "Bob", 5, 8, 0.9f));
    }

    [Fact]
    public void Labels_without_a_prefix_count_as_continuations()
    {
        const string text = "New York now";
        string[] labels = ["O", "LOC"];
        TokenPrediction[] tokens =
        [
            new("new", 0, 3, false, false, [0.2f, 0.8f]),
            new("york", 4, 8, false, false, [0.4f, 0.6f]),
            new("now", 9, 12, false, false, [0.9f, 0.1f]),
        ];
        AssertEntities(Run(AggregationStrategy.Simple, tokens, text, labels), ("LOC", "New York", 0, 8, 0.7f));
    }

    [Fact]
    public void A_text_that_starts_with_a_subword_still_starts_a_word()
    {
        TokenPrediction[] tokens =
        [
            new("##ab", 0, 2, false, true, [0f, 1f, 0f]),
            new("##cd", 2, 4, false, true, [1f, 0f, 0f]),
        ];
        AssertEntities(Run(AggregationStrategy.First, tokens, "abcd", ["O", "B-X", "I-X"]), ("X", "abcd", 0, 4, 1f));
        Assert.Empty(Run(AggregationStrategy.First, [], "", ["O"]));
    }

    [Fact]
    public void Bad_tokens_are_named()
    {
        TokenPrediction[] wrongWidth = [new("a", 0, 1, false, false, [1f])];
        Assert.Contains("Token 0 ('a') has 1 probabilities", Assert.Throws<ArgumentException>(() => Run(AggregationStrategy.First, wrongWidth, "a")).Message, StringComparison.Ordinal);
        TokenPrediction[] outside = [new("a", 0, 5, false, false, new float[Labels.Length])];
        Assert.Contains("outside the text", Assert.Throws<ArgumentException>(() => Run(AggregationStrategy.First, outside, "a")).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Run(AggregationStrategy.First, wrongWidth, "a", []));
    }

    [Fact]
    public void Softmax_is_shifted_and_normalised()
    {
        float[] p = EntityAggregator.Softmax([1f, 2f, 3f]);
        Assert.Equal(0.09003057f, p[0], Tolerance);
        Assert.Equal(0.24472847f, p[1], Tolerance);
        Assert.Equal(0.66524096f, p[2], Tolerance);
        float[] big = EntityAggregator.Softmax([1000f, 1000f]);
        Assert.Equal([0.5f, 0.5f], big);
        Assert.Empty(EntityAggregator.Softmax([]));
    }
}
