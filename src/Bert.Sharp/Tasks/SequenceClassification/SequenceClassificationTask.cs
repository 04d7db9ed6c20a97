using Bert.Sharp.Inference;
using Bert.Sharp.Training;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>
/// Sequence classification as a training task: labelled texts (or pairs) in, the pooled head's logits and the problem type's
/// loss out; single-label, multi-label and regression metrics.
/// </summary>
internal sealed class SequenceClassificationTask(BertForSequenceClassification model, ITextEncoder encoder, BertTokenizer? tokenizer, float[] thresholds)
    : FeatureHeadTask<LabeledExample>(model, encoder, tokenizer)
{
    public override void Validate(FineTuningOptions options)
    {
        if (options.MetricForBestModel != BestModelMetric.Loss && model.ProblemType == ProblemType.Regression)
        {
            throw new ArgumentException($"MetricForBestModel = {options.MetricForBestModel} needs a classification model; use Loss for regression.");
        }

        if (options.MetricForBestModel == BestModelMetric.EntityF1)
        {
            throw new ArgumentException("MetricForBestModel = EntityF1 is a token-classification metric; use Loss, Accuracy or MacroF1 for sequence classification.");
        }
    }

    public override TaskDataset Encode(IReadOnlyList<LabeledExample> examples, string setName, int maxLength, ILogger logger) =>
        ClassificationDataset.Create(examples, Encoder, model, maxLength, setName, logger);

    protected override Tensor Logits(Tensor inputIds, Tensor attentionMask, Tensor tokenTypeIds) => model.Logits(inputIds, attentionMask, tokenTypeIds);

    protected override Tensor HeadLogits(Tensor features) => model.Head.call(features);

    protected override Tensor EncoderFeatures(Tensor inputIds, Tensor attentionMask, Tensor tokenTypeIds) => model.Features(inputIds, attentionMask, tokenTypeIds);

    protected override Tensor Loss(Tensor logits, EncodedTaskDataset set, int[] batch) => model.ComputeLoss(logits, Labels((ClassificationDataset)set, batch));

    public override EvaluationAccumulator StartEvaluation(TaskDataset data) => new Accumulator(model, (ClassificationDataset)data, thresholds);

    // The labels of a batch as the model's loss wants them.
    private Tensor Labels(ClassificationDataset set, int[] batch)
    {
        if (model.ProblemType == ProblemType.SingleLabelClassification)
        {
            return Runtime.HostToDevice.Copy(tensor(batch.Select(i => (long)set.ClassIds[i]).ToArray()), model.Device);
        }

        float[] flat = [.. batch.SelectMany(i => set.Targets[i])];
        Tensor labels = tensor(flat, [batch.Length, model.NumLabels]);
        return (model.ProblemType == ProblemType.Regression && model.NumLabels == 1 ? labels.view(-1) : labels).to(model.Device);
    }

    private sealed class Accumulator(BertForSequenceClassification model, ClassificationDataset set, float[] thresholds) : EvaluationAccumulator
    {
        private readonly float[][] outputs = new float[set.Count][];

        public override void Add(int[] batch, Tensor logits)
        {
            int k = model.NumLabels;
            float[] flat = Runtime.HostRead.Values<float>(logits.to(ScalarType.Float32));
            for (int r = 0; r < batch.Length; r++)
            {
                outputs[batch[r]] = flat[(r * k)..((r + 1) * k)];
            }
        }

        public override EvaluationReport Finish(double meanLoss)
        {
            switch (model.ProblemType)
            {
                case ProblemType.SingleLabelClassification:
                    int[] predicted = [.. outputs.Select(VectorMath.ArgMax)];
                    return ClassificationMetrics.SingleLabel(model.Labels, set.ClassIds, predicted, meanLoss);
                case ProblemType.MultiLabelClassification:
                    bool[][] actualSets = [.. set.Targets.Select(t => t.Select(v => v > 0.5f).ToArray())];
                    // A label is predicted when sigmoid(logit) >= its threshold, as TextClassifier decides.
                    bool[][] predictedSets = [.. outputs.Select(o => o.Select((v, c) => 1f / (1f + MathF.Exp(-v)) >= thresholds[c]).ToArray())];
                    return ClassificationMetrics.MultiLabel(model.Labels, actualSets, predictedSets, meanLoss);
                default:
                    return ClassificationMetrics.Regression(model.Labels, set.Targets, outputs, meanLoss);
            }
        }
    }
}
