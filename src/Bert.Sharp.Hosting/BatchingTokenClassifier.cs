using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace Bert.Sharp.Hosting;

/// <summary>
/// Coalesces concurrent token-classifier requests into batches (a <see cref="MicroBatcher{TRequest, TResult}"/> in
/// front of <see cref="ITokenClassifier.PredictBatch"/>), as <see cref="BatchingTextClassifier"/> does for text classifiers.
/// </summary>
internal sealed class BatchingTokenClassifier(ITokenClassifier inner, MicroBatcherOptions options, ILogger logger, IMeterFactory? meterFactory)
    : BatchedModel<ITokenClassifier, IReadOnlyList<Entity>>(inner, inner.PredictBatch, options, logger, meterFactory), ITokenClassifier
{
    public IReadOnlyList<string> Labels => Inner.Labels;

    public IReadOnlyList<Entity> Predict(string text) => PredictAsync(text).GetAwaiter().GetResult();

    public IReadOnlyList<IReadOnlyList<Entity>> PredictBatch(IReadOnlyList<string> texts) => PredictBatchAsync(texts).GetAwaiter().GetResult();

    public Task<IReadOnlyList<Entity>> PredictAsync(string text, CancellationToken cancellationToken = default) => EnqueueAsync(text, cancellationToken);

    public Task<IReadOnlyList<IReadOnlyList<Entity>>> PredictBatchAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) => EnqueueManyAsync(texts, cancellationToken);
}
