using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Bert.Sharp.Benchmarks.Support;

/// <summary>A column that turns a benchmark's mean time into achieved GFLOP/s, from the FLOP count its class declares.</summary>
public sealed class GflopsColumn : IColumn
{
    private readonly Func<BenchmarkCase, double> flops;

    public GflopsColumn(Func<BenchmarkCase, double> flops) => this.flops = flops;

    public string Id => "GFLOPS";

    public string ColumnName => "GFLOP/s";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Floating-point operations per second achieved (analytic FLOP count / mean time)";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        ArgumentNullException.ThrowIfNull(summary);
        double? meanNs = summary[benchmarkCase]?.ResultStatistics?.Mean;
        return meanNs is null or 0 ? "-" : (flops(benchmarkCase) / meanNs.Value).ToString("F1", CultureInfo.InvariantCulture);
    }

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => true;
}
