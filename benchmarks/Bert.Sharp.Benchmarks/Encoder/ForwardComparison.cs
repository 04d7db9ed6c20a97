using System.Globalization;
using Bert.Sharp.Benchmarks.Support;
using Bert.Sharp.Models;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace Bert.Sharp.Benchmarks.Encoder;

/// <summary>
/// <c>forward-ab [32x128 ...] [--rounds N]</c>: the forward pass of <see cref="EncoderForwardBenchmarks"/> (all-MiniLM-L6-v2,
/// <c>sdpa</c>, inference mode, random ids, no padding) against ONNX Runtime on the original export with the same weights,
/// taking turns round by round, so that a shared machine's drift moves both sides of each ratio alike (the BenchmarkDotNet
/// suite times one side after the other, minutes apart). Prints the median of each side and their ratio per shape.
/// </summary>
internal static class ForwardComparison
{
    public static int Run(string[] args)
    {
        int rounds = 9;
        var shapes = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--rounds")
            {
                rounds = int.Parse(args[++i], CultureInfo.InvariantCulture);
            }
            else
            {
                shapes.Add(args[i]);
            }
        }

        if (shapes.Count == 0)
        {
            shapes.AddRange(["1x16", "32x128"]);
        }

        Device device = BenchmarkDevice.Device;
        string directory = MiniLmModel.EnsureImported();
        using var model = BertModel.FromPretrained(directory, new BertLoadOptions { AttentionImplementation = "sdpa", Device = device });
        using InferenceSession session = OrtSessions.Create(OriginalMiniLm.OnnxPath);
        Console.WriteLine($"forward-ab, {get_num_threads()} threads, {rounds} rounds, {device}; medians per forward");
        Console.WriteLine("| batch × tokens | Bert.Sharp sdpa | ONNX Runtime 1.31 | ratio |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (string shape in shapes)
        {
            (int batch, int length) = RandomIdBatch.ParseShape(shape);
            var data = RandomIdBatch.Create(batch, length);
            using Tensor ids = tensor(data.Ids, [batch, length], device: device);
            using Tensor mask = tensor(data.Mask, [batch, length], device: device);
            using Tensor types = tensor(data.Types, [batch, length], device: device);
            IReadOnlyCollection<NamedOnnxValue> inputs = OrtSessions.Inputs(data);
            int calls = batch * length <= 512 ? 20 : 1;
            void Torch()
            {
                using var scope = NewDisposeScope();
                using var inference = inference_mode();
                BertModelOutput output = model.Forward(ids, mask, types);
                BenchmarkDevice.Synchronize();
                _ = output.LastHiddenState[0, 0, 0].item<float>();
            }

            void Ort()
            {
                using var results = session.Run(inputs);
                _ = results[0].AsTensor<float>()[0, 0, 0];
            }

            // Warm-up of both sides, then the rounds; the pause lets the other runtime's spinning threads fall asleep.
            Torch();
            Ort();
            (double torch, double ort) = TakingTurns.Medians(rounds, Torch, Ort, calls: calls, pause: TimeSpan.FromMilliseconds(50));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {shape} | {torch:F2} ms | {ort:F2} ms | {torch / ort:F2} |"));
        }

        return 0;
    }
}
