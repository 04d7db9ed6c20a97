namespace Bert.Sharp.Benchmarks.Gpu;

/// <summary>One recorded case of the GPU check: its name, whether it passed, what it measured or why it failed, and its time.</summary>
internal sealed record GpuCheckCase(string Name, bool Passed, string Detail, double Seconds);

/// <summary>Runs cases one by one, each caught and recorded, and rewrites the report after every case (a crash keeps what ran).</summary>
internal sealed class GpuCheckMatrix(Action<IReadOnlyList<GpuCheckCase>> onRecorded)
{
    private readonly List<GpuCheckCase> cases = [];

    /// <summary>The cases recorded so far.</summary>
    public IReadOnlyList<GpuCheckCase> Cases => cases;

    /// <summary>Runs <paramref name="body"/>; it returns a detail (pass) or throws (fail, with the exception's type and message).</summary>
    public void Run(string name, Func<string> body)
    {
        Console.WriteLine($"[gpu-check] {name} ...");
        var watch = System.Diagnostics.Stopwatch.StartNew();
        GpuCheckCase result;
        try
        {
            result = new GpuCheckCase(name, true, body(), watch.Elapsed.TotalSeconds);
        }
#pragma warning disable CA1031 // Every failure is a result to record, not a reason to stop the check.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Exception inner = e is AggregateException { InnerException: not null } a ? a.InnerException! : e;
            result = new GpuCheckCase(name, false, $"{inner.GetType().Name}: {inner.Message}".ReplaceLineEndings(" "), watch.Elapsed.TotalSeconds);
        }

        cases.Add(result);
        Console.WriteLine($"[gpu-check] {name}: {(result.Passed ? "pass" : "FAIL")} ({result.Seconds:F1} s) {result.Detail}");
        onRecorded(cases);
    }

    /// <summary>Throws <see cref="InvalidOperationException"/> with <paramref name="message"/> unless <paramref name="condition"/>.</summary>
    public static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidOperationException(message);
        }
    }
}
