using Bert.Sharp;
using static TorchSharp.torch;

// A second job, for a test that needs a fresh process: a TorchSharp matrix product before Bert.Sharp's first use, then
// the MKL dispatch status and the log lines of loading the model in <folder> (tests/Bert.Sharp.Tests/Runtime).
if (args is ["--mkl-after-torch", string modelFolder])
{
    using (var early = randn(64, 64))
    using (var product = early.matmul(early))
    {
    }

    Console.WriteLine($"status: {TorchRuntime.MklCpuDispatchStatus}");
    using var loaded = BertModel.FromPretrained(modelFolder, new BertLoadOptions { LoggerFactory = new LineLoggerFactory() });
    return 0;
}

// Saves two different models into one folder, alternately, until killed: model A (labels a/b, every weight 0.25) and
// model B (labels c/d, every weight 0.75). Whenever it dies, the folder must hold one of them, whole.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: SaveWorker <folder> <vocab.txt> | SaveWorker --mkl-after-torch <model folder>");
    return 2;
}

BertTokenizer tokenizer = BertTokenizer.FromVocabulary(args[1]);
var config = new BertConfig { VocabSize = tokenizer.VocabularySize, HiddenSize = 32, NumHiddenLayers = 1, NumAttentionHeads = 4, IntermediateSize = 64, MaxPositionEmbeddings = 64 };
using var a = Filled(new BertForSequenceClassification(config, ["a", "b"]), 0.25f);
using var b = Filled(new BertForSequenceClassification(config, ["c", "d"]), 0.75f);
for (long i = 0; ; i++)
{
    (i % 2 == 0 ? a : b).SavePretrained(args[0], tokenizer);
    Console.WriteLine($"saved {i}");
}

static BertForSequenceClassification Filled(BertForSequenceClassification model, float value)
{
    using (no_grad())
    {
        foreach (var p in model.parameters())
        {
            p.fill_(value);
        }
    }

    return model;
}

// Writes each log entry as one line "log LEVEL: message" to standard output.
internal sealed class LineLoggerFactory : Microsoft.Extensions.Logging.ILoggerFactory
{
    public void AddProvider(Microsoft.Extensions.Logging.ILoggerProvider provider)
    {
    }

    public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => new LineLogger();

    public void Dispose()
    {
    }

    private sealed class LineLogger : Microsoft.Extensions.Logging.ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Console.WriteLine($"log {logLevel}: {formatter(state, exception)}");
    }
}
