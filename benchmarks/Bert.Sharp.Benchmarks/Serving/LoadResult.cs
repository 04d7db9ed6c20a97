namespace Bert.Sharp.Benchmarks.Serving;

/// <summary>Latencies of every request of a load run and the wall time it took.</summary>
/// <remarks>
/// <see cref="CpuSeconds"/> is the whole process's processor time over the run (client and server): on a shared,
/// loaded machine wall-clock throughput depends on how much CPU the other tenants leave, CPU time per request much less.
/// </remarks>
internal sealed record LoadResult(string Name, double[] LatenciesMs, double WallSeconds, double CpuSeconds, int Failures)
{
    public double CpuMsPerRequest => CpuSeconds * 1000 / LatenciesMs.Length;

    public double Throughput => LatenciesMs.Length / WallSeconds;

    public double Percentile(double p)
    {
        double[] sorted = [.. LatenciesMs.Order()];
        // Nearest rank.
        int rank = (int)Math.Ceiling(p / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}
