using Bert.Sharp.Inference;
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

    private readonly OnnxModelSession session;
    private readonly BertTokenizer tokenizer;
    private readonly OnnxClassifierOptions options;
    private readonly int maxLength;

    private OnnxSentenceEmbedder(OnnxModelSession session, BertTokenizer tokenizer, OnnxClassifierOptions options, int dimensions)
    {
        this.session = session;
        this.tokenizer = tokenizer;
        this.options = options;
        Dimensions = dimensions;
        maxLength = OnnxModelFolder.MaxLength(session.Metadata, tokenizer, options);
    }

    /// <summary>Length of every embedding.</summary>
    public int Dimensions { get; }

    /// <summary>Loads a folder with the exported embedder and its tokenizer files.</summary>
    /// <param name="directory">The folder, or a Hub model id.</param>
    /// <param name="options">File name, threads, limits.</param>
    /// <exception cref="FileNotFoundException">No ONNX file or no tokenizer files.</exception>
    /// <exception cref="InvalidDataException">The ONNX file has no <c>sentence_embedding</c> output.</exception>
    public static OnnxSentenceEmbedder FromPretrained(string directory, OnnxClassifierOptions? options = null)
    {
        options ??= new OnnxClassifierOptions();
        options.Validate();
        string resolved = OnnxModelFolder.Resolve(directory);
        BertTokenizer tokenizer = BertTokenizer.FromPretrained(resolved);
        OnnxModelSession session = OnnxModelSession.Open(Path.Combine(resolved, options.ModelFileName), options, typeof(OnnxSentenceEmbedder), Outputs, "sentence-embedding");
        int[] shape = session.OutputShape("sentence_embedding");
        return new OnnxSentenceEmbedder(session, tokenizer, options, shape.Length == 2 ? shape[1] : -1);
    }

    /// <summary>The embeddings of <paramref name="texts"/>, in input order.</summary>
    /// <exception cref="ArgumentException">A text is null; the message gives its index.</exception>
    /// <exception cref="ObjectDisposedException">The embedder was disposed.</exception>
    public float[][] Embed(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        for (int i = 0; i < texts.Count; i++)
        {
            if (texts[i] is null)
            {
                throw new ArgumentException($"Text #{i} is null.", nameof(texts));
            }
        }

        session.ThrowIfDisposed();
        if (texts.Count == 0)
        {
            return [];
        }

        BatchEncoding encoding = tokenizer.EncodeBatch(texts, new EncodingOptions { Padding = PaddingStrategy.None, Truncation = TruncationStrategy.LongestFirst, MaxLength = maxLength });
        EncodedText[] encoded = EncodedText.Rows(encoding);
        return LengthGroupedBatches.Run(encoded, options.BatchSize, rows =>
        {
            float[] flat = session.Run(PaddedBatch.Create(encoded, rows, tokenizer.PadTokenId), Outputs)[Outputs[0]];
            int width = flat.Length / rows.Length;
            return Enumerable.Range(0, rows.Length).Select(r => flat[(r * width)..((r + 1) * width)]).ToArray();
        });
    }

    /// <inheritdoc />
    public void Dispose() => session.Dispose();
}
