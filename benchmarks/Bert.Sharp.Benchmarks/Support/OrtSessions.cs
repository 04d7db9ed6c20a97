using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Bert.Sharp.Benchmarks.Support;

/// <summary>ONNX Runtime as its C# BERT samples use it: all graph optimisations, one intra-op thread per core.</summary>
internal static class OrtSessions
{
    /// <summary>
    /// A session over <paramref name="onnxPath"/>. Without <paramref name="allowSpinning"/> its threads sleep between runs
    /// instead of spinning, for processes that time several sessions in turn on the same cores (a spinning session's idle
    /// threads would take them from the next one).
    /// </summary>
    public static InferenceSession Create(string onnxPath, bool allowSpinning = true)
    {
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = Environment.ProcessorCount,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        if (!allowSpinning)
        {
            options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        }

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
