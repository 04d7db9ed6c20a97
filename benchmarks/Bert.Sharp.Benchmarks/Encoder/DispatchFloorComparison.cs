using System.Globalization;
using Bert.Sharp.Models;
using static TorchSharp.torch;

namespace Bert.Sharp.Benchmarks.Encoder;

/// <summary>
/// <c>dispatch-floor [rounds]</c>: one text at a time, as a service sees it, and how much of it is per-operator cost rather
/// than arithmetic. The same six-layer sequence classifier (random weights, mean pooling, MiniLM's vocabulary) is built
/// twice — MiniLM's widths (hidden 384, feed-forward 1,536, 12 heads) and a model with the same operators but hidden 12,
/// feed-forward 12 and 12 heads of width 1, whose arithmetic is almost nothing — saved, exported, and served by
/// <see cref="TextClassifier"/> (TorchSharp) and <see cref="OnnxTextClassifier"/> (ONNX Runtime, same thread count).
/// Each <c>Predict</c>s a short review (16 tokens) and a long text truncated to 128 tokens, taking turns round by round.
/// Medians from one run; the narrow model's time is each runtime's floor per text (tokenizing included, the same code on
/// both sides). Also the number of TorchSharp tensors one <c>Predict</c> makes (each one a native call and a wrapper to
/// dispose), which does not depend on the machine.
/// </summary>
internal static class DispatchFloorComparison
{
    public static int Run(string[] args)
    {
        int rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 15;
        BertTokenizer tokenizer = BertTokenizer.FromPretrained(MiniLmModel.EnsureImported());
        string shortText = Support.BenchmarkData.AmazonSentences.First(s => tokenizer.Encode(s).Count == 16);
        string longText = string.Join(' ', Support.BenchmarkData.AmazonSentences.Take(40));
        Console.WriteLine($"dispatch-floor, {get_num_threads()} threads, {rounds} rounds; Predict of one text, median per call (rounds of 40 calls)");
        Console.WriteLine("| model | tokens | Bert.Sharp (TorchSharp) | ONNX Runtime | ratio | tensors per Predict |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach ((string name, int hidden, int intermediate) in new[] { ("MiniLM widths (hidden 384)", 384, 1536), ("hidden 12 (the floor)", 12, 12) })
        {
            string folder = Directory.CreateTempSubdirectory("dispatch-floor").FullName;
            try
            {
                var config = new BertConfig
                {
                    VocabSize = tokenizer.VocabularySize, HiddenSize = hidden, NumHiddenLayers = 6, NumAttentionHeads = 12, IntermediateSize = intermediate,
                    MaxPositionEmbeddings = 512,
                };
                using (var model = new BertForSequenceClassification(config, ["negative", "positive"], pooling: PoolingStrategy.Mean))
                {
                    model.SavePretrained(folder, tokenizer);
                }

                OnnxExporter.Export(folder, Path.Combine(folder, "model.onnx"));
                using var torchSharp = TextClassifier.FromPretrained(folder, new TextClassifierOptions { MaxSequenceLength = 128 });
                using var onnxRuntime = OnnxTextClassifier.FromPretrained(folder, new OnnxClassifierOptions { MaxSequenceLength = 128, IntraOpThreads = get_num_threads() });
                foreach ((string text, int tokens) in new[] { (shortText, 16), (longText, 128) })
                {
                    // The pause lets the other runtime's worker threads (ONNX Runtime's and OpenMP's spin after their work) fall asleep first.
                    (double torch, double ort) = Support.TakingTurns.Medians(rounds, () => torchSharp.Predict(text), () => onnxRuntime.Predict(text), calls: 40, pause: TimeSpan.FromMilliseconds(50));
                    TorchSharp.DisposeScopeManager.Statistics.Reset();
                    torchSharp.Predict(text);
                    long tensors = TorchSharp.DisposeScopeManager.Statistics.CreatedInScopeCount + TorchSharp.DisposeScopeManager.Statistics.CreatedOutsideScopeCount;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {tokens} | {torch:F3} ms | {ort:F3} ms | {torch / ort:F2} | {tensors} |"));
                }
            }
            finally
            {
                Directory.Delete(folder, true);
            }
        }

        return 0;
    }
}
