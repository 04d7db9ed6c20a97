namespace Bert.Sharp;

/// <summary>
/// A trained text classifier, whatever runs it (TorchSharp's <c>TextClassifier</c>, ONNX Runtime's
/// <c>OnnxTextClassifier</c>, or a micro-batching decorator around either). Depend on this interface in application
/// code and tests; register an implementation with dependency injection.
/// </summary>
/// <remarks>Implementations are safe to call from several threads at once.</remarks>
public interface ITextClassifier : IDisposable
{
    /// <summary>The labels the classifier chooses from, in class-index order.</summary>
    IReadOnlyList<string> Labels { get; }

    /// <summary>Classifies one text (or text pair).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The classifier was disposed.</exception>
    Prediction Predict(string text, string? textPair = null);

    /// <summary>Classifies many texts; results are in input order.</summary>
    /// <exception cref="ArgumentException">A text is null; the message gives its index.</exception>
    /// <exception cref="ObjectDisposedException">The classifier was disposed.</exception>
    IReadOnlyList<Prediction> PredictBatch(IReadOnlyList<string> texts);

    /// <summary>Classifies one text without blocking the caller; cancelled requests that have not started are dropped.</summary>
    /// <remarks>
    /// A forward pass is synchronous native compute (TorchSharp or ONNX Runtime) with nothing to await, so the in-process
    /// classifiers run it on a thread-pool thread (<see cref="Task.Run(Action, CancellationToken)"/>), freeing the
    /// caller's thread. <see cref="BatchingTextClassifier"/> (what <c>AddTextClassifier</c> registers unless batching is
    /// off) queues the text and awaits its batch: no thread is held while a request waits, and one pool thread runs each batch.
    /// </remarks>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before the result was ready.</exception>
    Task<Prediction> PredictAsync(string text, CancellationToken cancellationToken = default);

    /// <summary>Classifies many texts without blocking the caller; results are in input order (threads: as <see cref="PredictAsync"/>).</summary>
    Task<IReadOnlyList<Prediction>> PredictBatchAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default);
}
