using System.Text;
using Bert.Sharp.Tests.TestSupport;

namespace Bert.Sharp.Tests.Hub;

/// <summary>A fake Hub on loopback, a fresh cache folder, and a small BERT-like repository per test.</summary>
public abstract class HubTestBase : IAsyncLifetime
{
    internal const string RepoId = "acme/tiny-bert";
    internal const int Timeout = 20_000;

    internal static readonly byte[] Config = Encoding.UTF8.GetBytes("{\"model_type\": \"bert\", \"hidden_size\": 8}");
    internal static readonly byte[] Vocab = Encoding.UTF8.GetBytes("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n");
    internal static readonly byte[] Safetensors = FakeHub.RandomBytes(300_000, seed: 1);
    internal static readonly byte[] PyTorchBin = FakeHub.RandomBytes(200_000, seed: 2);
    internal static readonly byte[] Readme = Encoding.UTF8.GetBytes("# tiny bert\n");

    internal FakeHub Hub { get; private set; } = null!;

    internal FakeHub.Repo Repo { get; private set; } = null!;

    internal string CacheDir { get; private set; } = null!;

    public Task InitializeAsync()
    {
        Hub = new FakeHub();
        CacheDir = TestTemp.NewDirectory("hub-cache");
        Repo = Hub.AddRepo(RepoId,
            ("config.json", Config, false),
            ("vocab.txt", Vocab, false),
            ("README.md", Readme, false),
            ("model.safetensors", Safetensors, true),
            ("pytorch_model.bin", PyTorchBin, true));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await Hub.DisposeAsync();
        try
        {
            Directory.Delete(CacheDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    internal HubClientOptions Options(bool offline = false, string? token = null) => new()
    {
        Endpoint = Hub.Endpoint,
        CacheDirectory = CacheDir,
        Offline = offline,
        Token = token,
        UseStoredToken = false,
        RetryDelay = TimeSpan.FromMilliseconds(5),
        RequestTimeout = TimeSpan.FromSeconds(5),
        LockTimeout = TimeSpan.FromSeconds(15),
    };

    internal PretrainedResolveOptions Resolve(bool offline = false, string? token = null, IProgress<HubDownloadProgress>? progress = null) =>
        new() { Hub = Options(offline, token), Progress = progress };

    internal string RepoFolder => Path.Combine(CacheDir, "models--acme--tiny-bert");

    internal string BlobsFolder => Path.Combine(RepoFolder, "blobs");

    internal string[] Blobs() => Directory.Exists(BlobsFolder) ? Names(BlobsFolder) : [];

    /// <summary>The names of the files directly in a folder, sorted ordinally.</summary>
    internal static string[] Names(string folder) =>
        Directory.GetFiles(folder).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray();

    /// <summary>Collects progress synchronously (Progress&lt;T&gt; would post to the thread pool).</summary>
    internal sealed class ProgressLog : IProgress<HubDownloadProgress>
    {
        public List<HubDownloadProgress> Reports { get; } = [];

        public void Report(HubDownloadProgress value)
        {
            lock (Reports)
            {
                Reports.Add(value);
            }
        }
    }
}
