using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Bert.Sharp.Tests.Fuzzing;

/// <summary>
/// Runs a file loader over deterministic mutations of valid files and checks the three promises of docs/reliability.md:
/// only the documented managed exceptions (or success), no hang (a watchdog names the seed of an input that runs longer
/// than <see cref="Watchdog"/>), and memory bounded by the input's size (managed bytes allocated by the load, and the
/// native tensor bytes the loader reports).
/// </summary>
internal sealed class FuzzRunner
{
    /// <summary>Inputs per format unless <c>BERT_SHARP_FUZZ_ITERATIONS</c> says otherwise.</summary>
    public const int DefaultIterations = 10_000;

    /// <summary>How long one input may run before the test fails as a hang: generous, as CI machines are slow and shared.</summary>
    public static readonly TimeSpan Watchdog = TimeSpan.FromSeconds(60);

    private readonly string format;
    private readonly string path;
    private readonly int baseSeed;
    private readonly IReadOnlyList<byte[]> corpus;
    private readonly Func<byte[], Random, List<string>, byte[]> mutate;
    private readonly Func<string, long> load;
    private readonly Type[] allowed;

    /// <param name="format">Names the format in messages.</param>
    /// <param name="path">Where each input is written before <paramref name="load"/> reads it.</param>
    /// <param name="baseSeed">Input i uses seed <c>baseSeed + i</c>.</param>
    /// <param name="corpus">Valid files to mutate and splice.</param>
    /// <param name="mutate">Makes one input from a corpus file.</param>
    /// <param name="load">Loads and uses the file; returns the native bytes it allocated (tensor bytes), or 0.</param>
    /// <param name="allowed">Exception types a malformed input may raise (exactly these types, not subclasses).</param>
    public FuzzRunner(string format, string path, int baseSeed, IReadOnlyList<byte[]> corpus, Func<byte[], Random, List<string>, byte[]> mutate, Func<string, long> load, params Type[] allowed)
    {
        this.format = format;
        this.path = path;
        this.baseSeed = baseSeed;
        this.corpus = corpus;
        this.mutate = mutate;
        this.load = load;
        this.allowed = allowed;
    }

    /// <summary>Inputs per format: <c>BERT_SHARP_FUZZ_ITERATIONS</c>, or <see cref="DefaultIterations"/>.</summary>
    public static int Iterations =>
        int.TryParse(Environment.GetEnvironmentVariable("BERT_SHARP_FUZZ_ITERATIONS"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n > 0
            ? n
            : DefaultIterations;

    /// <summary>Managed bytes one input may allocate: this many times its size ...</summary>
    public long ManagedFactor { get; init; } = 64;

    /// <summary>... plus this constant.</summary>
    public long ManagedConstant { get; init; } = 8 << 20;

    /// <summary>
    /// Runs on the fuzzing thread before the first input: one-time static tables (such as the accent-stripping
    /// decompositions) and per-thread scratch are not the cost of any one input.
    /// </summary>
    public Action? WarmUp { get; init; }

    /// <summary>Native tensor bytes one input may make: this many times its size (plus 64 KB).</summary>
    public long NativeFactor { get; init; } = 8;

    /// <summary>
    /// A fresh directory for the inputs: in /dev/shm when there is one, since rewriting a file 10,000 times on a journaling
    /// file system costs more than everything else the fuzzer does (0.8 ms against 20 µs per input, measured on ext4).
    /// </summary>
    public static string NewWorkDirectory(string prefix)
    {
        const string Shm = "/dev/shm";
        if (OperatingSystem.IsLinux() && Directory.Exists(Shm))
        {
            string dir = Path.Combine(Shm, $"bert-sharp-{prefix}-{Guid.NewGuid():N}");
            try
            {
                Directory.CreateDirectory(dir);
                return dir;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // fall back to the temp folder
            }
        }

        return TestSupport.TestTemp.NewDirectory(prefix);
    }

    /// <summary>Runs <paramref name="iterations"/> inputs; the result lists every failure.</summary>
    public FuzzResult Run(int iterations)
    {
        var result = new FuzzResult(format);
        int currentSeed = -1;
        long startedAt = 0;
        var clock = Stopwatch.StartNew();
        using Process process = Process.GetCurrentProcess();
        process.Refresh();
        long baseline = process.WorkingSet64;
        TimeSpan cpuBefore = process.TotalProcessorTime;
        Task worker = Task.Factory.StartNew(
            () =>
            {
                WarmUp?.Invoke();
                for (int i = 0; i < iterations; i++)
                {
                    int seed = baseSeed + i;
                    Volatile.Write(ref startedAt, clock.ElapsedTicks);
                    Volatile.Write(ref currentSeed, seed);
                    RunOne(seed, result);
                    if (i % 500 == 0)
                    {
                        process.Refresh();
                        result.MaxWorkingSetGrowth = Math.Max(result.MaxWorkingSetGrowth, process.WorkingSet64 - baseline);
                    }
                }

                Volatile.Write(ref currentSeed, -1);
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

        while (!worker.Wait(TimeSpan.FromSeconds(1)))
        {
            int seed = Volatile.Read(ref currentSeed);
            TimeSpan running = TimeSpan.FromSeconds((clock.ElapsedTicks - Volatile.Read(ref startedAt)) / (double)Stopwatch.Frequency);
            if (seed >= 0 && running > Watchdog)
            {
                result.Hangs.Add($"seed {seed}: still running after {running.TotalSeconds:F0} s");
                return result; // the worker is abandoned; the test fails on the hang
            }
        }

        worker.GetAwaiter().GetResult();
        result.Elapsed = clock.Elapsed;
        process.Refresh();
        result.ProcessorTime = process.TotalProcessorTime - cpuBefore;
        result.MaxWorkingSetGrowth = Math.Max(result.MaxWorkingSetGrowth, process.WorkingSet64 - baseline);
        return result;
    }

    /// <summary>The input of one seed, for reproducing a failure.</summary>
    public (byte[] Input, List<string> Mutations) Input(int seed)
    {
        var rng = new Random(seed);
        var log = new List<string>();
        int source = rng.Next(corpus.Count);
        log.Add($"corpus file {source}");
        return (mutate(corpus[source], rng, log), log);
    }

    private void RunOne(int seed, FuzzResult result)
    {
        (byte[] input, List<string> log) = Input(seed);
        File.WriteAllBytes(path, input);
        result.Inputs++;
        int failuresBefore = result.Failures.Count;
        try
        {
            Measure(seed, input, log, result);
        }
        finally
        {
            SaveFailure(seed, input, result, failuresBefore);
        }
    }

    private void Measure(int seed, byte[] input, List<string> log, FuzzResult result)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        long started = Stopwatch.GetTimestamp();
        long native;
        try
        {
            native = LoadOne(seed, log, result);
        }
        finally
        {
            TimeSpan took = Stopwatch.GetElapsedTime(started);
            if (took > result.Slowest)
            {
                result.Slowest = took;
                result.SlowestSeed = seed;
            }
        }

        if (native < 0)
        {
            return;
        }

        long managed = GC.GetAllocatedBytesForCurrentThread() - before;
        result.MaxManagedBytes = Math.Max(result.MaxManagedBytes, managed);
        if (input.Length >= 1024)
        {
            result.MaxManagedRatio = Math.Max(result.MaxManagedRatio, managed / (double)input.Length);
        }

        result.MaxNativeBytes = Math.Max(result.MaxNativeBytes, native);
        result.MaxInputBytes = Math.Max(result.MaxInputBytes, input.Length);
        if (managed > (ManagedFactor * input.Length) + ManagedConstant)
        {
            result.Failures.Add($"seed {seed} ({string.Join("; ", log)}): {managed} managed bytes allocated for a {input.Length}-byte file");
        }

        if (native > (NativeFactor * input.Length) + (64 << 10))
        {
            result.Failures.Add($"seed {seed} ({string.Join("; ", log)}): {native} tensor bytes made from a {input.Length}-byte file");
        }
    }

    // Loads one input; returns the native bytes it made, or -1 when it failed (recorded in result).
    private long LoadOne(int seed, List<string> log, FuzzResult result)
    {
        long native;
        try
        {
            native = load(path);
            result.Accepted++;
        }
        catch (Exception e) when (allowed.Contains(e.GetType()))
        {
            native = 0;
            result.Refused.TryGetValue(e.GetType().Name, out int n);
            result.Refused[e.GetType().Name] = n + 1;
            // The file, or (for a setting that makes another file of the model directory unusable) its directory.
            if (!e.Message.Contains(Path.GetDirectoryName(path)!, StringComparison.Ordinal))
            {
                result.Failures.Add($"seed {seed} ({string.Join("; ", log)}): {e.GetType().Name} does not name the file: {e.Message}");
            }
        }
        catch (Exception e)
        {
            result.Failures.Add($"seed {seed} ({string.Join("; ", log)}): {e.GetType().FullName}: {e.Message}");
            return -1;
        }

        return native;
    }

    // Keeps the input of a failure (the first 20 of a format) for reproducing it outside the fuzzer; the message says where.
    private void SaveFailure(int seed, byte[] input, FuzzResult result, int failuresBefore)
    {
        if (result.Failures.Count == failuresBefore || failuresBefore >= 20)
        {
            return;
        }

        string folder = Environment.GetEnvironmentVariable("BERT_SHARP_FUZZ_FAILURES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Path.GetTempPath(), "bert-sharp-fuzz-failures");
        Directory.CreateDirectory(folder);
        string saved = Path.Combine(folder, $"{format}-seed{seed}.bin");
        File.WriteAllBytes(saved, input);
        for (int i = failuresBefore; i < result.Failures.Count; i++)
        {
            result.Failures[i] += $" [input saved to {saved}]";
        }
    }
}

/// <summary>What a fuzz run found.</summary>
internal sealed class FuzzResult(string format)
{
    public string Format { get; } = format;

    public int Accepted { get; set; }

    public Dictionary<string, int> Refused { get; } = [];

    public List<string> Failures { get; } = [];

    public List<string> Hangs { get; } = [];

    public long MaxManagedBytes { get; set; }

    public double MaxManagedRatio { get; set; }

    public long MaxNativeBytes { get; set; }

    public long MaxInputBytes { get; set; }

    public long MaxWorkingSetGrowth { get; set; }

    public TimeSpan Elapsed { get; set; }

    public TimeSpan ProcessorTime { get; set; }

    public TimeSpan Slowest { get; set; }

    public int SlowestSeed { get; set; }

    public int Inputs { get; set; }

    public string Summary()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{Format}: {Inputs} inputs in {Elapsed.TotalSeconds:F1} s ({ProcessorTime.TotalSeconds:F1} s CPU); accepted {Accepted}; refused ");
        text.Append(string.Join(", ", Refused.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Value} {r.Key}")));
        text.Append(CultureInfo.InvariantCulture, $"; failures {Failures.Count}; hangs {Hangs.Count}; largest input {MaxInputBytes} B; ");
        text.Append(CultureInfo.InvariantCulture, $"max managed allocation {MaxManagedBytes / 1024.0:F0} KiB (at most {MaxManagedRatio:F1}× an input of 1 KiB or more); ");
        text.Append(CultureInfo.InvariantCulture, $"max tensor bytes {MaxNativeBytes}; max working-set growth {MaxWorkingSetGrowth / (1024.0 * 1024.0):F1} MiB; slowest input {Slowest.TotalMilliseconds:F0} ms (seed {SlowestSeed})");
        return text.ToString();
    }
}
