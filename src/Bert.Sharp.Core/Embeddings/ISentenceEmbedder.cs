namespace Bert.Sharp;

/// <summary>
/// Turns texts into fixed-size vectors: Bert.Sharp's <c>SentenceEmbedder</c> (TorchSharp) and Bert.Sharp.Onnx's
/// <c>OnnxSentenceEmbedder</c> (ONNX Runtime) both are one, so <see cref="SemanticSearch"/> works over either.
/// </summary>
public interface ISentenceEmbedder
{
    /// <summary>The length of every vector.</summary>
    int Dimensions { get; }

    /// <summary>One vector per text, in input order.</summary>
    /// <param name="texts">The texts; none may be null.</param>
    float[][] Embed(IReadOnlyList<string> texts);
}
