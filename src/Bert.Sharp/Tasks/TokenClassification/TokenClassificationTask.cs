using Bert.Sharp.Inference;
using Bert.Sharp.TokenClassification;
using Bert.Sharp.Training;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>
/// Token classification as a training task: tagged sentences in (labels on the first piece of each word, or on every piece),
/// per-token logits and cross-entropy out; entity-level precision/recall/F1 with seqeval's semantics and token accuracy.
/// </summary>
internal sealed class TokenClassificationTask(BertForTokenClassification model, ITextEncoder encoder, BertTokenizer? tokenizer, bool labelAllTokens)
    : FeatureHeadTask<TaggedSentence>(model, encoder, tokenizer)
{
    public override void Validate(FineTuningOptions options)
    {
        if (options.MetricForBestModel is BestModelMetric.MacroF1 or BestModelMetric.MicroF1)
        {
            throw new ArgumentException($"MetricForBestModel = {options.MetricForBestModel} is a sequence-classification metric; use EntityF1, Accuracy (token accuracy) or Loss for token classification.");
        }
    }

    public override TaskDataset Encode(IReadOnlyList<TaggedSentence> examples, string setName, int maxLength, ILogger logger) =>
        TokenDataset.Create(examples, Encoder, model, labelAllTokens, maxLength, setName, logger);

    protected override Tensor Logits(Tensor inputIds, Tensor attentionMask, Tensor tokenTypeIds) => model.Logits(inputIds, attentionMask, tokenTypeIds);

    protected override Tensor HeadLogits(Tensor features) => model.Head.call(features);

    protected override Tensor EncoderFeatures(Tensor inputIds, Tensor attentionMask, Tensor tokenTypeIds) => model.Features(inputIds, attentionMask, tokenTypeIds);

    protected override Tensor Loss(Tensor logits, EncodedTaskDataset set, int[] batch) => model.ComputeLoss(logits, Labels((TokenDataset)set, batch, logits.shape[1]));

    public override EvaluationAccumulator StartEvaluation(TaskDataset data) => new Accumulator(model, (TokenDataset)data);

    // Tag ids [batch, width], -100 on padding.
    private Tensor Labels(TokenDataset set, int[] batch, long width)
    {
        long[] flat = new long[batch.Length * width];
        Array.Fill(flat, WordPieceLabelAligner.IgnoreIndex);
        for (int r = 0; r < batch.Length; r++)
        {
            int[] row = set.TokenLabels[batch[r]];
            for (int c = 0; c < row.Length; c++)
            {
                flat[(r * width) + c] = row[c];
            }
        }

        return Runtime.HostToDevice.Copy(tensor(flat, [batch.Length, width]), model.Device);
    }

    private sealed class Accumulator(BertForTokenClassification model, TokenDataset set) : EvaluationAccumulator
    {
        private readonly string[][] predicted = new string[set.Count][];

        public override void Add(int[] batch, Tensor logits)
        {
            using Tensor best = logits.argmax(-1).cpu();
            long width = best.shape[1];
            long[] flat = Runtime.HostRead.Values<long>(best);
            for (int r = 0; r < batch.Length; r++)
            {
                int i = batch[r];
                int length = set.Inputs[i].InputIds.Length;
                string[] tokenTags = [.. Enumerable.Range(0, length).Select(c => model.Labels[(int)flat[(r * width) + c]])];
                predicted[i] = WordPieceLabelAligner.FirstPieceValues(set.WordIds[i], tokenTags, set.WordTags[i].Length, "O");
            }
        }

        public override EvaluationReport Finish(double meanLoss)
        {
            EntityMetricsReport entities = EntityMetrics.Evaluate(set.WordTags, predicted);
            string[] types = [.. entities.PerType.Keys.Order(StringComparer.Ordinal)];
            return new EvaluationReport
            {
                Count = set.Count,
                Loss = meanLoss,
                Labels = types,
                Accuracy = entities.Accuracy,
                EntityPrecision = entities.Micro.Precision,
                EntityRecall = entities.Micro.Recall,
                EntityF1 = entities.Micro.F1,
                PerClass = [.. types.Select(t => new ClassMetrics(t, entities.PerType[t].Precision, entities.PerType[t].Recall, entities.PerType[t].F1, entities.PerType[t].Support))],
            };
        }
    }
}
