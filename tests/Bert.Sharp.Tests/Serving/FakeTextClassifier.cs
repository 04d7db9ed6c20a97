using System.Collections.Concurrent;

namespace Bert.Sharp.Tests.Serving;

/// <summary>
/// An <see cref="ITextClassifier"/> without a model: "long" when a text has more than 10 characters, else "short"; the
/// score is the length. Records batches, can hold one (<see cref="Hold"/>) and throws for the text "throw".
/// </summary>
internal sealed class FakeTextClassifier : ITextClassifier
{
    private readonly ManualResetEventSlim released = new(true);
    private TaskCompletionSource heldBatchStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyList<string> Labels { get; } = ["short", "long"];

    public ConcurrentQueue<string[]> Batches { get; } = new();

    public int SingleCalls;

    public bool Disposed { get; private set; }

    public Task HeldBatchStarted => heldBatchStarted.Task;

    public void Hold()
    {
        heldBatchStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        released.Reset();
    }

    public void Release() => released.Set();

    public static Prediction Classify(string text)
    {
        string label = text.Length > 10 ? "long" : "short";
        return new Prediction
        {
            Label = label,
            Score = text.Length,
            Probabilities = new Dictionary<string, float> { ["short"] = label == "short" ? 1 : 0, ["long"] = label == "long" ? 1 : 0 },
            Labels = [label],
        };
    }

    public Prediction Predict(string text, string? textPair = null)
    {
        Interlocked.Increment(ref SingleCalls);
        return Classify(text + textPair);
    }

    public IReadOnlyList<Prediction> PredictBatch(IReadOnlyList<string> texts)
    {
        ObjectDisposedException.ThrowIf(Disposed, this);
        Batches.Enqueue([.. texts]);
        heldBatchStarted.TrySetResult();
        released.Wait();
        return [.. texts.Select(t => t == "throw" ? throw new InvalidDataException("the fake cannot classify 'throw'") : Classify(t))];
    }

    public Task<Prediction> PredictAsync(string text, CancellationToken cancellationToken = default) => Task.FromResult(Predict(text));

    public Task<IReadOnlyList<Prediction>> PredictBatchAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) => Task.FromResult(PredictBatch(texts));

    public void Dispose()
    {
        Disposed = true;
        released.Set();
    }
}
