using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Bert.Sharp.Inference;
using Bert.Sharp.Training;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>
/// Fine-tuning sentence embeddings as a training task: text pairs in; each anchor must pick its own positive among all the
/// batch's positives (and negatives) by cosine similarity × 20 — cross-entropy over the batch (sentence-transformers'
/// MultipleNegativesRankingLoss). The evaluation reports that in-batch retrieval accuracy.
/// </summary>
internal sealed class SentenceEmbeddingTask(BertForSentenceEmbedding model, ITextEncoder encoder, BertTokenizer? tokenizer) : TrainingTask<TextPair>
{
    public override BertTaskModel Model => model;

    public int PadTokenId => encoder.PadTokenId;

    public override int ModelMaxLength => Math.Min(model.MaxSequenceLength ?? int.MaxValue, Math.Min(model.Bert.Config.MaxSequenceLength, encoder.ModelMaxLength));

    public override BertTokenizer? Tokenizer => tokenizer;

    // The loss needs the encoder itself (it is what learns): there are no fixed features to cache.
    public override bool CanCacheFeatures => false;

    public override void Validate(FineTuningOptions options)
    {
        if (options.MetricForBestModel is BestModelMetric.MacroF1 or BestModelMetric.MicroF1 or BestModelMetric.EntityF1)
        {
            throw new ArgumentException($"MetricForBestModel = {options.MetricForBestModel} is not an embedding metric; use Loss or Accuracy (in-batch retrieval) for sentence embeddings.");
        }

        if (options.BatchSize < 2)
        {
            throw new ArgumentException("Contrastive embedding training compares each pair with the rest of its batch: BatchSize must be at least 2.");
        }
    }

    public override TaskDataset Encode(IReadOnlyList<TextPair> examples, string setName, int maxLength, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(examples);
        if (examples.Count == 0)
        {
            throw new ArgumentException($"The {setName} set is empty: at least one text pair is needed.", nameof(examples));
        }

        for (int i = 0; i < examples.Count; i++)
        {
            TextPair pair = examples[i] ?? throw new ArgumentException($"{setName} pair #{i} is null.", nameof(examples));
            if (string.IsNullOrWhiteSpace(pair.Anchor) || string.IsNullOrWhiteSpace(pair.Positive) || pair.Negative is { } n && string.IsNullOrWhiteSpace(n))
            {
                throw new ArgumentException($"{setName} pair #{i} has an empty text.", nameof(examples));
            }
        }

        bool negatives = examples.Any(e => e.Negative is not null);
        if (negatives && examples.Any(e => e.Negative is null))
        {
            throw new ArgumentException($"In the {setName} set some pairs have a negative and some do not; give every pair one or none.", nameof(examples));
        }

        int vocab = model.Bert.Config.VocabSize;
        EncodedText[] Texts(Func<TextPair, string> pick, string part) =>
            EncodedTexts.Encode(encoder, examples.Select(e => (pick(e), (string?)null)).ToList(), maxLength, $"{setName} ({part})", vocab, logger);
        return new PairDataset(Texts(e => e.Anchor, "anchors"), Texts(e => e.Positive, "positives"), negatives ? Texts(e => e.Negative!, "negatives") : null);
    }

    public override (Tensor Loss, Tensor Outputs) Forward(TaskDataset data, int[] batch, Tensor? features)
    {
        var set = (PairDataset)data;
        Tensor anchors = Embed(set.Anchors, batch);
        Tensor candidates = set.Negatives is null ? Embed(set.Positives, batch) : cat([Embed(set.Positives, batch), Embed(set.Negatives, batch)], 0);
        Tensor scores = Runtime.HeldScalars.Multiply(nn.functional.normalize(anchors, p: 2, dim: -1).matmul(nn.functional.normalize(candidates, p: 2, dim: -1).t()), BertForSentenceEmbedding.Scale);
        Tensor targets = Runtime.HeldScalars.Range(batch.Length, ScalarType.Int64, scores.device);
        return (nn.functional.cross_entropy(scores, targets), scores);
    }

    public override Tensor Features(TaskDataset data, int[] batch) =>
        throw new NotSupportedException("Sentence-embedding training does not cache features.");

    public override EvaluationAccumulator StartEvaluation(TaskDataset data) => new Accumulator(data.Count);

    private Tensor Embed(EncodedText[] texts, int[] batch)
    {
        (Tensor ids, Tensor mask, Tensor types) = TensorBatch.Collate(texts, batch, PadTokenId, model.Device);
        return model.Forward(ids, mask, types);
    }

    private sealed class PairDataset : TaskDataset
    {
        public PairDataset(EncodedText[] anchors, EncodedText[] positives, EncodedText[]? negatives)
        {
            Anchors = anchors;
            Positives = positives;
            Negatives = negatives;
            Lengths = [.. anchors.Select((a, i) => Math.Max(a.InputIds.Length, positives[i].InputIds.Length))];
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            foreach (EncodedText[] part in new[] { anchors, positives, negatives ?? [] })
            {
                foreach (EncodedText text in part)
                {
                    hash.AppendData(MemoryMarshal.AsBytes(text.InputIds.AsSpan()));
                }
            }

            Fingerprint = Convert.ToHexStringLower(hash.GetHashAndReset());
        }

        public EncodedText[] Anchors { get; }

        public EncodedText[] Positives { get; }

        public EncodedText[]? Negatives { get; }

        public override int Count => Anchors.Length;

        public override IReadOnlyList<int> Lengths { get; }

        public override string Fingerprint { get; }
    }

    // Share of anchors whose own positive scores highest among the batch's candidates.
    private sealed class Accumulator(int count) : EvaluationAccumulator
    {
        private int correct;

        public override void Add(int[] batch, Tensor scores)
        {
            long[] best = Runtime.HostRead.Values<long>(scores.argmax(-1));
            for (int r = 0; r < best.Length; r++)
            {
                correct += best[r] == r ? 1 : 0;
            }
        }

        public override EvaluationReport Finish(double meanLoss) => new()
        {
            Count = count,
            Loss = meanLoss,
            Labels = [],
            Accuracy = (double)correct / count,
        };
    }
}
