using Bert.Sharp.Attention;
using Bert.Sharp.Benchmarks.Support;
using BenchmarkDotNet.Attributes;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Benchmarks.Attention;

/// <summary>
/// Time of one attention forward (inference) per kernel over batch × 12 heads × sequence length, head size 32
/// (all-MiniLM-L6-v2's shape). Eager is the baseline, so the Ratio column reads as speed-up against it.
/// Peak memory of the same calls comes from <see cref="AttentionMemoryProfile"/>.
/// </summary>
[MemoryDiagnoser(false)]
public class AttentionKernelBenchmarks
{
    private Tensor query = null!;
    private Tensor key = null!;
    private Tensor value = null!;
    private Tensor mask = null!;
    private IAttentionKernel kernel = null!;

    [Params(128, 512, 2048)]
    public int SequenceLength { get; set; }

    [Params(1, 8)]
    public int Batch { get; set; }

    [Params("eager", "sdpa", "chunked")]
    public string Kernel { get; set; } = "eager";

    [GlobalSetup]
    public void Setup()
    {
        Device device = BenchmarkDevice.Device;
        kernel = AttentionKernels.Get(Kernel);
        manual_seed(0);
        query = randn(Batch, 12, SequenceLength, 32, device: device);
        key = randn(Batch, 12, SequenceLength, 32, device: device);
        value = randn(Batch, 12, SequenceLength, 32, device: device);
        // A realistic ragged batch: each sequence keeps a different share of its tokens.
        mask = ones(Batch, SequenceLength, dtype: ScalarType.Bool, device: device);
        for (int b = 0; b < Batch; b++)
        {
            int keep = Math.Max(1, SequenceLength * (b + 1) / (Batch + 1));
            if (Batch > 1)
            {
                mask[b, keep..] = tensor(false);
            }
        }
    }

    [Benchmark]
    public void Forward()
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        kernel.Compute(query, key, value, Batch > 1 ? mask : null, 0.0, false);
        BenchmarkDevice.Synchronize();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        query.Dispose();
        key.Dispose();
        value.Dispose();
        mask.Dispose();
    }
}
