namespace Bert.Sharp;

/// <summary>
/// A trained token classifier (named-entity recognition and other tagging), whatever runs it. Entities carry character
/// offsets into the input text.
/// </summary>
/// <remarks>Implementations are safe to call from several threads at once.</remarks>
public interface ITokenClassifier : IDisposable
{
    /// <summary>The tags the model predicts per token (for example <c>O</c>, <c>B-PER</c>, <c>I-PER</c>), in class-index order.</summary>
    IReadOnlyList<string> Labels { get; }

    /// <summary>The entities of one text, in order of appearance.</summary>
    IReadOnlyList<Entity> Predict(string text);

    /// <summary>The entities of many texts; one list per text, in input order.</summary>
    IReadOnlyList<IReadOnlyList<Entity>> PredictBatch(IReadOnlyList<string> texts);

    /// <summary>The entities of one text, without blocking the caller.</summary>
    /// <remarks>
    /// The in-process token classifiers run the synchronous forward pass on a thread-pool thread; the batching queue that
    /// <c>AddTokenClassifier</c> registers awaits its batch instead, holding no thread while a request waits
    /// (as <see cref="ITextClassifier.PredictAsync"/>).
    /// </remarks>
    Task<IReadOnlyList<Entity>> PredictAsync(string text, CancellationToken cancellationToken = default);
}
