using System.Globalization;
using Bert.Sharp.Benchmarks.Support;
using Bert.Sharp.Models;
using Bert.Sharp.Runtime;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace Bert.Sharp.Benchmarks.Encoder;

/// <summary>
/// <c>small-rows [rounds] [rows]</c>: where one short text's matrix products stand. All 36 linear products of
/// all-MiniLM-L6-v2's six layers (Q, K and V apart) at 16 rows (by default), each with its own weight as in a forward pass
/// (42 MB, more than this CPU's cache), timed as LibTorch's <c>linear</c> with Hugging Face's row-major weights and with
/// the serving layout's column-major ones, and as Bert.Sharp's few-row kernel on the weights packed once
/// (<see cref="SmallRowsGemm"/>, what the serving classes use), with its AVX-512 tile and with its AVX2 one; next to them the whole encoder forward
/// (row-major, sdpa) and ONNX Runtime's whole forward of the same model at 1 × rows, taking turns round by round (medians
/// of calls of 20).
/// </summary>
internal static class SmallRowsComparison
{
    public static unsafe int Run(string[] args)
    {
        int rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 15;
        int rows = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 16;
        if (!SmallRowsGemm.IsSupported || rows is < 1 or > 128)
        {
            Console.Error.WriteLine("small-rows needs AVX-512 or AVX2 with FMA (and BERT_SHARP_SMALL_ROWS not 0), and 1 to 128 rows.");
            return 2;
        }

        using var model = BertModel.FromPretrained(MiniLmModel.EnsureImported(), new BertLoadOptions { AttentionImplementation = "sdpa" });
        using InferenceSession session = OrtSessions.Create(OriginalMiniLm.OnnxPath);
        Tensor[] weights = [.. model.named_parameters().Where(p => p.name.Contains("encoder.layer", StringComparison.Ordinal) && p.parameter.dim() == 2).Select(p => p.parameter.detach())];
        Tensor[] columnMajor = [.. weights.Select(w => w.t().contiguous().t())];
        float[][] panels = [.. weights.Select(w => SmallRowsGemm.Pack(TensorMemory.Floats(w), w.stride(0), w.stride(1), (int)w.shape[0], (int)w.shape[1]))];
        var inputs = new Dictionary<long, Tensor> { [384] = randn(rows, 384), [1536] = randn(rows, 1536) };
        var outputs = new Dictionary<long, Tensor> { [384] = empty(rows, 384), [1536] = empty(rows, 1536) };
        var data = RandomIdBatch.Create(1, rows);
        using Tensor ids = tensor(data.Ids, [1, rows]), mask = tensor(data.Mask, [1, rows]), types = tensor(data.Types, [1, rows]);
        IReadOnlyCollection<NamedOnnxValue> ortInputs = OrtSessions.Inputs(data);

        void Linear(Tensor[] layout)
        {
            using var scope = NewDisposeScope();
            using var inference = inference_mode();
            foreach (Tensor w in layout)
            {
                _ = nn.functional.linear(inputs[w.shape[1]], w);
            }
        }

        void Packed(int i, bool? wide = null)
        {
            int n = (int)weights[i].shape[0], k = (int)weights[i].shape[1];
            SmallRowsGemm.Multiply(TensorMemory.Floats(inputs[k]), panels[i], null, TensorMemory.Floats(outputs[n]), rows, k, n, get_num_threads(), wide);
        }

        // The kernel against LibTorch on the first and last products (Q and the last feed-forward output).
        double difference = 0;
        foreach (int i in new[] { 0, weights.Length - 1 })
        {
            using Tensor reference = nn.functional.linear(inputs[weights[i].shape[1]], weights[i]);
            Packed(i);
            difference = Math.Max(difference, (reference - outputs[weights[i].shape[0]]).abs().max().item<float>());
        }

        Action[] sides =
        [
            () => Linear(weights),
            () => Linear(columnMajor),
            () =>
            {
                for (int i = 0; i < weights.Length; i++)
                {
                    Packed(i);
                }
            },
            () =>
            {
                // The AVX2 tile (256-bit vectors, 2 rows), on this CPU.
                for (int i = 0; i < weights.Length; i++)
                {
                    Packed(i, wide: false);
                }
            },
            () =>
            {
                using var scope = NewDisposeScope();
                using var inference = inference_mode();
                _ = model.Forward(ids, mask, types).LastHiddenState[0, 0, 0].item<float>();
            },
            () =>
            {
                using var results = session.Run(ortInputs);
            },
        ];
        foreach (Action side in sides)
        {
            side();
        }

        double[] medians = TakingTurns.Medians(rounds, sides, calls: 20, pause: TimeSpan.FromMilliseconds(50));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"small-rows, {get_num_threads()} threads, {rounds} rounds; MiniLM's 36 linear products at {rows} rows (the kernel against LibTorch: max |difference| {difference:G3})"));
        Console.WriteLine("| linear, row-major weights | linear, column-major (serving layout) | Bert.Sharp's kernel, widest tile this CPU has | the same, AVX2 tile (256-bit) | encoder forward 1 × rows (row-major, no packing) | ONNX Runtime forward 1 × rows |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {medians[0]:F2} ms | {medians[1]:F2} ms | {medians[2]:F2} ms | {medians[3]:F2} ms | {medians[4]:F2} ms | {medians[5]:F2} ms |"));
        foreach (Tensor t in inputs.Values.Concat(outputs.Values).Concat(columnMajor))
        {
            t.Dispose();
        }

        return 0;
    }
}
