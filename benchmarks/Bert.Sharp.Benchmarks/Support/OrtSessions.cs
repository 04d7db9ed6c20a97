using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Bert.Sharp.Benchmarks.Support;

/// <summary>ONNX Runtime as its C# BERT samples use it: all graph optimisations, one intra-op thread per core.</summary>
internal static class OrtSessions
{
    public static InferenceSession Create(string onnxPath)
    {
        var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = Environment.ProcessorCount,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        return new InferenceSession(onnxPath, options);
    }

    public static IReadOnlyCollection<NamedOnnxValue> Inputs((long[] Ids, long[] Mask, long[] Types, int Rows, int Columns) batch)
    {
        int[] shape = [batch.Rows, batch.Columns];
        return
        [
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(batch.Ids, shape)),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(batch.Mask, shape)),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(batch.Types, shape)),
        ];
    }
}
