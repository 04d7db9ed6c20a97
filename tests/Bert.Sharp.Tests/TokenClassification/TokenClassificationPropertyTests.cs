using Bert.Sharp.TokenClassification;
using CsCheck;

namespace Bert.Sharp.Tests.TokenClassification;

/// <summary>Properties that must hold for any input: CsCheck generates the inputs and shrinks failures.</summary>
public class TokenClassificationPropertyTests
{
    private static readonly string[] Types = ["LOC", "ORG", "PER"];
    private static readonly string[] Labels = ["O", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-PER", "I-PER"];

    private static readonly Gen<string> Tag = Gen.Frequency(
        (5, Gen.Const("O")),
        (3, Gen.Int[0, Types.Length - 1].Select(i => "B-" + Types[i])),
        (2, Gen.Int[0, Types.Length - 1].Select(i => "I-" + Types[i])));

    private static readonly Gen<string[][]> Sentences = Tag.Array[0, 12].Array[1, 6];

    /// <summary>Words with 1–4 pieces each, wrapped in [CLS] … [SEP] and 0–3 paddings.</summary>
    private static readonly Gen<(int[] PiecesPerWord, int Padding, int[] WordLabels)> Encoded =
        Gen.Int[1, 4].Array[0, 10].SelectMany(pieces => Gen.Int[0, 3].SelectMany(padding =>
            Gen.Int[0, Labels.Length - 1].Array[pieces.Length].Select(labels => (pieces, padding, labels))));

    private static int?[] WordIdsOf(int[] piecesPerWord, int padding)
    {
        var ids = new List<int?> { null };
        for (int w = 0; w < piecesPerWord.Length; w++)
        {
            ids.AddRange(Enumerable.Repeat<int?>(w, piecesPerWord[w]));
        }

        ids.Add(null);
        ids.AddRange(Enumerable.Repeat<int?>(null, padding));
        return [.. ids];
    }

    [Fact]
    public void Predicting_the_truth_scores_one_in_both_modes()
    {
        Sentences.Sample(sentences =>
        {
            foreach (ChunkingMode mode in new[] { ChunkingMode.Default, ChunkingMode.StrictIob2 })
            {
                EntityMetricsReport r = EntityMetrics.Evaluate(sentences, sentences, mode);
                Assert.Equal(sentences.Any(s => s.Length > 0) ? 1 : 0, r.Accuracy);
                Assert.Equal(r.Micro.Support, r.Micro.Correct);
                Assert.Equal(r.Micro.Support > 0 ? 1 : 0, r.Micro.F1);
                Assert.All(r.PerType.Values, s => Assert.Equal(1, s.F1));
            }
        }, iter: 500);
    }

    [Fact]
    public void Swapping_truth_and_prediction_swaps_precision_and_recall()
    {
        Gen.Select(Sentences, Gen.Int).Sample((gold, seed) =>
        {
            var rng = new Random(seed);
            string[][] guess = [.. gold.Select(s => s.Select(t => rng.Next(3) == 0 ? Labels[rng.Next(Labels.Length)] : t).ToArray())];
            EntityMetricsReport forward = EntityMetrics.Evaluate(gold, guess);
            EntityMetricsReport backward = EntityMetrics.Evaluate(guess, gold);
            Assert.Equal(forward.Micro.Precision, backward.Micro.Recall, 12);
            Assert.Equal(forward.Micro.Recall, backward.Micro.Precision, 12);
            Assert.Equal(forward.Micro.F1, backward.Micro.F1, 12);
            Assert.InRange(forward.Micro.F1, 0, 1);

            // Strict entities are a subset of the default-mode entities.
            foreach (string[] sentence in guess)
            {
                IReadOnlyList<EntitySpan> loose = EntityMetrics.GetEntities(sentence);
                Assert.All(EntityMetrics.GetEntities(sentence, ChunkingMode.StrictIob2), e => Assert.Contains(e, loose));
            }
        }, iter: 500);
    }

    [Fact]
    public void Aligned_labels_match_the_token_count_and_sit_on_first_pieces_only()
    {
        var aligner = new WordPieceLabelAligner(Labels);
        var everyPiece = new WordPieceLabelAligner(Labels, labelAllTokens: true);
        Encoded.Sample(sample =>
        {
            int?[] wordIds = WordIdsOf(sample.PiecesPerWord, sample.Padding);
            int[] aligned = aligner.Align(wordIds, sample.WordLabels);
            int[] all = everyPiece.Align(wordIds, sample.WordLabels);
            Assert.Equal(wordIds.Length, aligned.Length);
            Assert.Equal(wordIds.Length, all.Length);
            for (int t = 0; t < wordIds.Length; t++)
            {
                bool first = wordIds[t] is int w && (t == 0 || wordIds[t - 1] != w);
                if (wordIds[t] is null)
                {
                    Assert.Equal(WordPieceLabelAligner.IgnoreIndex, aligned[t]);
                    Assert.Equal(WordPieceLabelAligner.IgnoreIndex, all[t]);
                }
                else if (first)
                {
                    Assert.Equal(sample.WordLabels[wordIds[t]!.Value], aligned[t]);
                    Assert.Equal(aligned[t], all[t]);
                }
                else
                {
                    Assert.Equal(WordPieceLabelAligner.IgnoreIndex, aligned[t]);
                    Assert.False(Labels[all[t]].StartsWith("B-", StringComparison.Ordinal));
                }
            }

            Assert.Equal(sample.WordLabels, WordPieceLabelAligner.FirstPieceValues(wordIds, aligned, sample.PiecesPerWord.Length, -1));
        }, iter: 1000);
    }

    [Fact]
    public void Aggregated_entities_never_overlap_and_quote_the_text()
    {
        Gen<(int Gap, int Length, bool Subword, bool Special, float[] Logits)> token = Gen.Select(
            Gen.Int[0, 2], Gen.Int[0, 4], Gen.Bool, Gen.Int[0, 9].Select(i => i == 0), Gen.Float[-4f, 4f].Array[Labels.Length]);
        token.Array[0, 16].Sample(spec =>
        {
            var tokens = new List<TokenPrediction>();
            int position = 0;
            foreach (var (gap, length, subword, special, logits) in spec)
            {
                position += special ? 0 : gap;
                int end = special ? position : position + length;
                tokens.Add(new TokenPrediction("p", position, end, special, subword && gap == 0, EntityAggregator.Softmax(logits)));
                position = end;
            }

            string text = new('x', position);
            int plain = tokens.Count(t => !t.IsSpecial);
            foreach (AggregationStrategy strategy in Enum.GetValues<AggregationStrategy>())
            {
                IReadOnlyList<Entity> entities = EntityAggregator.Aggregate(text, tokens, Labels, strategy);
                Assert.True(entities.Count <= plain);
                for (int i = 0; i < entities.Count; i++)
                {
                    Entity e = entities[i];
                    Assert.NotEqual("O", e.Group);
                    Assert.InRange(e.Start, 0, e.End);
                    Assert.Equal(text[e.Start..e.End], e.Text);
                    Assert.InRange(e.Score, 0f, 1f);
                    if (i > 0)
                    {
                        Assert.True(entities[i - 1].End <= e.Start, $"{strategy}: {entities[i - 1]} overlaps {e}");
                    }
                }
            }
        }, iter: 1000);
    }
}
