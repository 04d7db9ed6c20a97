using System.Runtime.CompilerServices;

namespace Bert.Sharp.Inference;

/// <summary>
/// The <c>PredictAsync</c> of every in-process predictor (TorchSharp and ONNX Runtime): a forward pass is synchronous
/// native compute with nothing to await, so it runs on a thread-pool thread and the caller's thread is free meanwhile.
/// A request cancelled before it starts is dropped. The batching queues (<see cref="BatchingTextClassifier"/>, hosting's)
/// do not come here: they await their batch and hold no thread while a request waits.
/// </summary>
internal static class SyncPrediction
{
    /// <summary>Checks <paramref name="input"/> now (so a null argument throws at the call, not in the task), then runs <paramref name="predict"/> on the thread pool.</summary>
    public static Task<TResult> RunAsync<TInput, TResult>(TInput input, Func<TInput, TResult> predict, CancellationToken cancellationToken,
        [CallerArgumentExpression(nameof(input))] string? paramName = null)
        where TInput : class
    {
        ArgumentNullException.ThrowIfNull(input, paramName);
        return Task.Run(() => predict(input), cancellationToken);
    }
}
