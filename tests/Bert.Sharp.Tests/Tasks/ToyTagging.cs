using Bert.Sharp.Tests.TestSupport;
using Bert.Sharp.Tests.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Tasks;

/// <summary>
/// A toy tagging task for <see cref="ToyEncoder"/> (one token per word): <c>good</c>/<c>great</c> are a BRAND,
/// <c>bad</c> an ORG, <c>awful poor</c> a two-word LOC; every other word is O. Learnable in seconds by a tiny model.
/// </summary>
internal static class ToyTagging
{
    public static readonly string[] Tags = ["O", "B-BRAND", "I-BRAND", "B-LOC", "I-LOC", "B-ORG", "I-ORG"];

    private static readonly string[] Filler = ["the", "phone", "was", "really", "and", "screen", "battery", "it", "very", "quite"];

    public static List<TaggedSentence> Sentences(int count, int seed)
    {
        var rng = new Random(seed);
        var sentences = new List<TaggedSentence>(count);
        for (int i = 0; i < count; i++)
        {
            var words = new List<string>();
            var tags = new List<string>();
            int length = rng.Next(3, 9);
            while (words.Count < length)
            {
                switch (rng.Next(6))
                {
                    case 0: words.Add(rng.Next(2) == 0 ? "good" : "great"); tags.Add("B-BRAND"); break;
                    case 1: words.Add("bad"); tags.Add("B-ORG"); break;
                    case 2: words.AddRange(["awful", "poor"]); tags.AddRange(["B-LOC", "I-LOC"]); break;
                    default: words.Add(Filler[rng.Next(Filler.Length)]); tags.Add("O"); break;
                }
            }

            sentences.Add(new TaggedSentence(words, tags));
        }

        return sentences;
    }

    /// <summary>
    /// Six-word sentences of real words for subword tokenizers (a word splits into several pieces): a person's name is
    /// <c>B-PER</c> (about one word in three), every other word <c>O</c>.
    /// </summary>
    public static List<TaggedSentence> PersonSentences(int count, int seed)
    {
        string[] names = ["Alice", "Bob", "Carol", "Dave"];
        string[] filler = ["met", "the", "team", "at", "noon", "and", "left"];
        var rng = new Random(seed);
        var data = new List<TaggedSentence>(count);
        for (int i = 0; i < count; i++)
        {
            var tokens = new List<string>();
            var tags = new List<string>();
            for (int w = 0; w < 6; w++)
            {
                bool name = rng.Next(3) == 0;
                tokens.Add(name ? names[rng.Next(names.Length)] : filler[rng.Next(filler.Length)]);
                tags.Add(name ? "B-PER" : "O");
            }

            data.Add(new TaggedSentence(tokens, tags));
        }

        return data;
    }

    public static BertForTokenClassification Model(int seed = 11)
    {
        return SeededWeights.Apply(new BertForTokenClassification(TinyConfigs.Bert(), Tags), seed);
    }

    public static FineTuner Tuner(BertTaskModel model, FineTuningOptions options) => new(model, new ToyEncoder(), null, options);

    /// <summary>The sentences as one right-padded batch: ids and mask [batch, longest].</summary>
    public static (Tensor Ids, Tensor Mask) Batch(IReadOnlyList<TaggedSentence> sentences)
    {
        var encoder = new ToyEncoder();
        int[][] rows = [.. sentences.Select(s => encoder.EncodeWords(s.Tokens, 64).InputIds.ToArray())];
        int width = rows.Max(r => r.Length);
        long[] ids = new long[rows.Length * width];
        long[] mask = new long[rows.Length * width];
        for (int r = 0; r < rows.Length; r++)
        {
            for (int c = 0; c < rows[r].Length; c++)
            {
                ids[(r * width) + c] = rows[r][c];
                mask[(r * width) + c] = 1;
            }
        }

        return (tensor(ids, [rows.Length, width]), tensor(mask, [rows.Length, width]));
    }
}
