using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using ClassifierApi;
using Microsoft.AspNetCore.Builder;

namespace Bert.Sharp.Benchmarks.Serving;

/// <summary>
/// <c>-- serving</c>: N concurrent <c>POST /classify</c> requests on loopback against the ClassifierApi sample hosted
/// in-process on Kestrel, with micro-batching off (one forward per request) and on, in the same run; plus one
/// <c>PredictBatch</c> of all N texts (the time a perfect batcher could not beat) and sequential latency.
/// </summary>
/// <remarks>
/// BenchmarkDotNet measures one operation at a time; this needs the latency distribution of many overlapping requests,
/// so it is a small load generator. Client and server share the machine's cores, equally for every variant.
/// </remarks>
internal static class ServingLoadBenchmark
{
    private sealed record Variant(string Name, string[] Arguments);

    public static int Run(string[] args)
    {
        int requests = IntOption(args, "--requests", 200);
        int rounds = IntOption(args, "--rounds", 3);
        string? output = StringOption(args, "--out");
        string root = RepositoryRoot();
        (string model, string modelDescription) = ServingModel.Resolve(StringOption(args, "--model"), root);
        string[] texts = LoadTexts(Path.Combine(root, "samples", "data", "amazon_cells_labelled.txt"), requests);

        Variant[] variants =
        [
            new("one forward per request (batching off)", ["--TextClassifier:EnableBatching=false"]),
            new("micro-batching (default: MaxDelay 0)", []),
            new("micro-batching, MaxDelay 2 ms", ["--TextClassifier:MaxDelay=00:00:00.002"]),
        ];

        (double batchMs, double batchCpuMs) = TimeOneBatch(model, texts);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"One PredictBatch of {requests} texts: {batchMs:F0} ms ({batchCpuMs / requests:F1} CPU ms per text)"));
        var rows = new List<(LoadResult Concurrent, LoadResult Sequential)>();
        foreach (Variant variant in variants)
        {
            (LoadResult concurrent, LoadResult sequential) = RunVariantAsync(variant, model, texts, rounds).GetAwaiter().GetResult();
            rows.Add((concurrent, sequential));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{variant.Name}: {concurrent.Throughput:F1} req/s, {concurrent.CpuMsPerRequest:F1} CPU ms/request, p50 {concurrent.Percentile(50):F0} ms, p99 {concurrent.Percentile(99):F0} ms, failures {concurrent.Failures}; sequential p50 {sequential.Percentile(50):F1} ms"));
        }

        string table = Format(rows, batchMs, batchCpuMs / requests, requests, rounds, modelDescription);
        Console.WriteLine();
        Console.WriteLine(table);
        if (output is not null)
        {
            File.WriteAllText(output, table);
        }

        return 0;
    }

    private static async Task<(LoadResult, LoadResult)> RunVariantAsync(Variant variant, string model, string[] texts, int rounds)
    {
        WebApplication app = ClassifierApiApp.Build(["--urls", "http://127.0.0.1:0", "--model", model, "--Logging:LogLevel:Default=Warning", .. variant.Arguments]);
        await app.StartAsync();
        try
        {
            using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue }) { BaseAddress = new Uri(app.Urls.First()), Timeout = TimeSpan.FromMinutes(5) };
            LoadResult sequential = await SequentialAsync(client, texts[..Math.Min(30, texts.Length)], variant.Name);
            await ConcurrentAsync(client, texts, variant.Name); // warm-up round: connections, thread pool, allocator
            var latencies = new List<double>();
            double wall = 0, cpu = 0;
            int failures = 0;
            for (int r = 0; r < rounds; r++)
            {
                LoadResult round = await ConcurrentAsync(client, texts, variant.Name);
                latencies.AddRange(round.LatenciesMs);
                wall += round.WallSeconds;
                cpu += round.CpuSeconds;
                failures += round.Failures;
            }

            return (new LoadResult(variant.Name, [.. latencies], wall, cpu, failures), sequential);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private static async Task<LoadResult> ConcurrentAsync(HttpClient client, string[] texts, string name)
    {
        TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        (double Ms, bool Ok)[] results = await Task.WhenAll(texts.Select(text => Task.Run(() => TimedPostAsync(client, text))));
        double wall = clock.Elapsed.TotalSeconds;
        return new LoadResult(name, [.. results.Select(r => r.Ms)], wall, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds, results.Count(r => !r.Ok));
    }

    private static async Task<LoadResult> SequentialAsync(HttpClient client, string[] texts, string name)
    {
        await TimedPostAsync(client, texts[0]);
        var clock = Stopwatch.StartNew();
        var latencies = new List<double>();
        foreach (string text in texts)
        {
            latencies.Add((await TimedPostAsync(client, text)).Ms);
        }

        return new LoadResult(name, [.. latencies], clock.Elapsed.TotalSeconds, 0, 0);
    }

    private static async Task<(double Ms, bool Ok)> TimedPostAsync(HttpClient client, string text)
    {
        long start = Stopwatch.GetTimestamp();
        using HttpResponseMessage response = await client.PostAsJsonAsync("/classify", new { text });
        await response.Content.ReadAsByteArrayAsync();
        return (Stopwatch.GetElapsedTime(start).TotalMilliseconds, response.IsSuccessStatusCode);
    }

    /// <summary>Median wall and CPU time of one <c>PredictBatch</c> of all the texts (3 runs after a warm-up).</summary>
    private static (double WallMs, double CpuMs) TimeOneBatch(string model, string[] texts)
    {
        using var classifier = TextClassifier.FromPretrained(model);
        classifier.PredictBatch(texts); // warm-up
        var times = new List<(double, double)>();
        for (int i = 0; i < 3; i++)
        {
            TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            classifier.PredictBatch(texts);
            times.Add((clock.Elapsed.TotalMilliseconds, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds));
        }

        return times.OrderBy(t => t.Item1).ElementAt(1);
    }

    private static string Format(List<(LoadResult Concurrent, LoadResult Sequential)> rows, double batchMs, double batchCpuMsPerText, int requests, int rounds, string model)
    {
        var table = new StringBuilder();
        table.AppendLine(CultureInfo.InvariantCulture, $"{requests} concurrent `POST /classify` on loopback, {rounds} rounds after a warm-up round; {model}; one `PredictBatch` of the {requests} texts: {batchMs:F0} ms ({batchCpuMsPerText:F1} CPU ms per text).");
        table.AppendLine();
        table.AppendLine("| Server | Throughput (req/s) | vs. one forward per request | CPU ms / request | p50 (ms) | p99 (ms) | p99 / one batch | Sequential p50 (ms) | Failures |");
        table.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        double baseline = rows[0].Concurrent.Throughput;
        foreach ((LoadResult c, LoadResult s) in rows)
        {
            table.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {c.Name} | {c.Throughput:F1} | {c.Throughput / baseline:F2}× | {c.CpuMsPerRequest:F1} | {c.Percentile(50):F0} | {c.Percentile(99):F0} | {c.Percentile(99) / batchMs:F2}× | {s.Percentile(50):F1} | {c.Failures} |"));
        }

        return table.ToString();
    }

    private static string[] LoadTexts(string path, int count)
    {
        string[] sentences = [.. File.ReadLines(path).Select(line => line.Split('\t')[0]).Where(t => t.Length > 0)];
        return [.. Enumerable.Range(0, count).Select(i => sentences[i % sentences.Length])];
    }

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Bert.Sharp.sln")))
            {
                return dir.FullName;
            }
        }

        return Directory.GetCurrentDirectory();
    }

    private static int IntOption(string[] args, string name, int fallback) =>
        StringOption(args, name) is { } value ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

    private static string? StringOption(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
