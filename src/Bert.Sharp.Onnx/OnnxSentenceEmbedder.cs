using Bert.Sharp.Serving;

namespace Bert.Sharp;

/// <summary>
/// Serves a sentence-embedding model exported with Bert.Sharp's <c>OnnxExporter</c> from a sentence-transformers folder:
/// one vector per text (<c>sentence_embedding</c>, pooled and normalised inside the graph as the folder said).
/// </summary>
/// <remarks>Thread-safe; disposal as <see cref="OnnxTextClassifier"/>.</remarks>
public sealed class OnnxSentenceEmbedder : ISentenceEmbedder, IDisposable
{
    private static readonly string[] Outputs = ["sentence_embedding"];

    private readonly OnnxTextModel model;

    private OnnxSentenceEmbedder(OnnxTextModel model, int dimensions)
    {
        this.model = model;
        Dimensions = dimensions;
    }

    /// <summary>Length of every embedding.</summary>
    public int Dimensions { get; }

    /// <summary>Loads a folder with the exported embedder and its tokenizer files.</summary>
    /// <param name="directory">The folder, or a Hub model id.</param>
    /// <param name="options">File name, threads, limits.</param>
    /// <exception cref="FileNotFoundException">No ONNX file or no tokenizer files.</exception>
    /// <exception cref="InvalidDataException">The ONNX file has no <c>sentence_embedding</c> output.</exception>
    public static OnnxSentenceEmbedder FromPretrained(string directory, OnnxClassifierOptions? options = null) =>
        OnnxTextModel.Load(directory, options, Outputs, "sentence-embedding", model =>
        {
            int[] shape = model.Session.OutputShape("sentence_embedding");
            return new OnnxSentenceEmbedder(model, shape.Length == 2 ? shape[1] : -1);
        });

    /// <summary>The embeddings of <paramref name="texts"/>, in input order.</summary>
    /// <exception cref="ArgumentException">A text is null; the message gives its index.</exception>
    /// <exception cref="ObjectDisposedException">The embedder was disposed.</exception>
    public float[][] Embed(IReadOnlyList<string> texts)
    {
        if (!model.Check(texts))
        {
            return [];
        }

        return model.Run(model.Encode(texts), Outputs[0], (rows, _, flat) =>
        {
            int width = flat.Length / rows.Length;
            return Enumerable.Range(0, rows.Length).Select(r => flat[(r * width)..((r + 1) * width)]).ToArray();
        });
    }

    /// <inheritdoc />
    public void Dispose() => model.Dispose();
}
