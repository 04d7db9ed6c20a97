using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace Bert.Sharp.Tests.Onnx;

/// <summary>Random right-padded batches ([CLS] ... [SEP], a second segment) and running them through ONNX Runtime.</summary>
internal sealed record OnnxTestBatch(string Name, int Size, int Length, long[] Ids, long[] Mask, long[] Types)
{
    public static IEnumerable<OnnxTestBatch> All(int vocab = 30522)
    {
        var random = new Random(20261201);
        yield return Make("ragged 4x32 (lengths 32,21,9,3)", 32, [32, 21, 9, 3]);
        yield return Make("single 1x7 (no padding)", 7, [7]);
        yield return Make("padded 3x16 (all 16)", 16, [16, 16, 16]);
        yield return Make("ragged 6x24 (random lengths)", 24, [.. Enumerable.Range(0, 6).Select(_ => random.Next(2, 25))]);

        OnnxTestBatch Make(string name, int length, int[] lengths)
        {
            int size = lengths.Length;
            var ids = new long[size * length];
            var mask = new long[size * length];
            var types = new long[size * length];
            for (int b = 0; b < size; b++)
            {
                int real = lengths[b];
                for (int t = 0; t < real; t++)
                {
                    int i = (b * length) + t;
                    ids[i] = t == 0 ? 101 % vocab : t == real - 1 ? 102 % vocab : random.Next(1000 % vocab, vocab);
                    mask[i] = 1;
                    types[i] = t >= real / 2 && real > 3 ? 1 : 0;
                }
            }

            return new OnnxTestBatch(name, size, length, ids, mask, types);
        }
    }

    public (Tensor Ids, Tensor Mask, Tensor Types) Tensors() =>
        (tensor(Ids, [Size, Length]), tensor(Mask, [Size, Length]), tensor(Types, [Size, Length]));

    public Dictionary<string, float[]> Run(InferenceSession session)
    {
        int[] dims = [Size, Length];
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(Ids, dims)),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(Mask, dims)),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(Types, dims)),
        };
        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results = session.Run(inputs);
        return results.ToDictionary(r => r.Name, r => r.AsTensor<float>().ToArray());
    }
}
