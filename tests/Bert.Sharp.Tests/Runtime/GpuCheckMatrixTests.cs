using Bert.Sharp.Benchmarks.Gpu;

namespace Bert.Sharp.Tests.Runtime;

/// <summary>The gpu-check's case runner: every case is recorded (a failure with its exception) and reported as it goes.</summary>
public class GpuCheckMatrixTests
{
    [Fact]
    public void Records_passes_and_failures_and_reports_after_every_case()
    {
        var reports = new List<int>();
        var matrix = new GpuCheckMatrix(cases => reports.Add(cases.Count));
        matrix.Run("works", () => "3 steps");
        matrix.Run("crashes", () => throw new InvalidOperationException("generator on cpu, tensor on cuda"));
        matrix.Run("requirement", () =>
        {
            GpuCheckMatrix.Require(false, "the loss did not fall");
            return "unreachable";
        });

        Assert.Equal([1, 2, 3], reports);
        Assert.Equal(["works", "crashes", "requirement"], matrix.Cases.Select(c => c.Name));
        Assert.True(matrix.Cases[0].Passed);
        Assert.Equal("3 steps", matrix.Cases[0].Detail);
        Assert.False(matrix.Cases[1].Passed);
        Assert.Equal("InvalidOperationException: generator on cpu, tensor on cuda", matrix.Cases[1].Detail);
        Assert.False(matrix.Cases[2].Passed);
        Assert.Contains("the loss did not fall", matrix.Cases[2].Detail, StringComparison.Ordinal);
    }
}
