using BenchmarkDotNet.Running;

namespace Bert.Sharp.Benchmarks;

/// <summary>Entry point: <c>dotnet run -c Release --project benchmarks/Bert.Sharp.Benchmarks -- --filter '*'</c>.</summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
