using System.Globalization;
using Bert.Sharp.Modeling;
using static TorchSharp.torch;

namespace Bert.Sharp.Benchmarks.Encoder;

/// <summary>
/// <c>weight-layout MODEL_DIR [rounds]</c>: a trained classifier served by <see cref="TextClassifier"/> with its linear weights
/// in row-major order (Hugging Face's, what training uses) and column-major (what the serving classes store,
/// <see cref="LinearWeightLayout"/>), switched back and forth on the same model round by round: 200 texts of the sentiment
/// data one <c>Predict</c> at a time and in one <c>PredictBatch</c>, and the forward of random batches at 1 × 16, 1 × 64, 1 × 128 and
/// 32 × 128 tokens. Medians per layout and their ratio, from one run; the largest probability difference between layouts.
/// </summary>
internal static class WeightLayoutComparison
{
    public static int Run(string[] args)
    {
        if (args.Length == 0 || !Directory.Exists(args[0]))
        {
            Console.Error.WriteLine("usage: weight-layout MODEL_DIR [rounds]");
            return 2;
        }

        int rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 12;
        using TextClassifier classifier = TextClassifier.FromPretrained(args[0]);
        BertForSequenceClassification model = classifier.Model;
        string[] texts = [.. Support.BenchmarkData.AmazonSentences.Take(200)];
        void Layout(bool columnMajor) => _ = columnMajor ? LinearWeightLayout.UseColumnMajor(model) : LinearWeightLayout.UseRowMajor(model);

        Layout(false);
        IReadOnlyList<Prediction> rowMajor = classifier.PredictBatch(texts);
        Layout(true);
        IReadOnlyList<Prediction> columnMajor = classifier.PredictBatch(texts);
        double difference = rowMajor.Zip(columnMajor).Max(p => p.First.Probabilities.Max(kv => Math.Abs(kv.Value - p.Second.Probabilities[kv.Key])));
        Console.WriteLine($"weight-layout, {get_num_threads()} threads, {rounds} rounds per layout; largest probability difference between layouts: {difference:E2}");
        Console.WriteLine("| work | row-major (median) | column-major (median) | column / row |");
        Console.WriteLine("|---|---:|---:|---:|");
        Compare("200 texts, one Predict each", rounds, Layout, () =>
        {
            foreach (string text in texts)
            {
                classifier.Predict(text);
            }
        });
        Compare("200 texts, one PredictBatch", rounds, Layout, () => classifier.PredictBatch(texts));
        foreach ((int batch, int length) in new[] { (1, 16), (1, 64), (1, 128), (32, 128) })
        {
            using Tensor input = tensor(Support.RandomIdBatch.Create(batch, length).Ids, [batch, length]);
            using Tensor mask = ones_like(input);
            int calls = batch == 1 ? 960 / length : 2;
            Compare($"forward {batch} x {length} ({calls} calls)", rounds, Layout, () =>
            {
                for (int i = 0; i < calls; i++)
                {
                    using var scope = NewDisposeScope();
                    using var inference = inference_mode();
                    model.Logits(input, mask, null).softmax(-1).cpu();
                }
            });
        }

        return 0;
    }

    private static void Compare(string name, int rounds, Action<bool> layout, Action work)
    {
        (double row, double column) = Support.TakingTurns.Medians(rounds, work, work, prepare: which => layout(which == 1));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {row:F1} ms | {column:F1} ms | {column / row:F3} |"));
    }
}
