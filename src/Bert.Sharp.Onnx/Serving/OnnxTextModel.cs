using Bert.Sharp.Inference;

namespace Bert.Sharp.Serving;

/// <summary>
/// What the three ONNX Runtime servers share: loading (options checked, folder resolved once, tokenizer, session checked
/// for the task's outputs), the encoding of texts (no padding, truncated to the model's maximum) and the length-grouped
/// batch loop (<see cref="LengthGroupedBatches"/>, the runner of the TorchSharp classes too), so each server only says how
/// a batch's flat output becomes its results.
/// </summary>
internal sealed class OnnxTextModel : IDisposable
{
    private OnnxTextModel(string directory, OnnxModelSession session, BertTokenizer tokenizer, OnnxClassifierOptions options)
    {
        Directory = directory;
        Session = session;
        Tokenizer = tokenizer;
        Options = options;
        MaxLength = OnnxModelFolder.MaxLength(session.Metadata, tokenizer, options);
    }

    /// <summary>The resolved model folder.</summary>
    public string Directory { get; }

    /// <summary>The ONNX Runtime session.</summary>
    public OnnxModelSession Session { get; }

    /// <summary>The folder's tokenizer.</summary>
    public BertTokenizer Tokenizer { get; }

    /// <summary>The validated options.</summary>
    public OnnxClassifierOptions Options { get; }

    /// <summary>Longest input in tokens: the options', the graph's and the tokenizer's limits, the smallest.</summary>
    public int MaxLength { get; }

    /// <summary>How every text is encoded: no padding (batches pad themselves), truncated to <see cref="MaxLength"/>.</summary>
    public EncodingOptions Encoding => new() { Padding = PaddingStrategy.None, Truncation = TruncationStrategy.LongestFirst, MaxLength = MaxLength };

    /// <summary>
    /// Loads <paramref name="directory"/> (a folder or a Hub model id) with the options' ONNX file, checks the graph has
    /// <paramref name="requiredOutputs"/>, and builds the server with <paramref name="create"/>; the session is disposed
    /// when <paramref name="create"/> throws.
    /// </summary>
    public static T Load<T>(string directory, OnnxClassifierOptions? options, IReadOnlyList<string> requiredOutputs, string expectedKind, Func<OnnxTextModel, T> create)
    {
        options ??= new OnnxClassifierOptions();
        options.Validate();
        string resolved = OnnxModelFolder.Resolve(directory);
        BertTokenizer tokenizer = BertTokenizer.FromPretrained(resolved);
        OnnxModelSession session = OnnxModelSession.Open(Path.Combine(resolved, options.ModelFileName), options, typeof(T), requiredOutputs, expectedKind);
        try
        {
            return create(new OnnxTextModel(resolved, session, tokenizer, options));
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>Checks <paramref name="texts"/> (no null text) and that the server is not disposed.</summary>
    /// <returns>Whether there is anything to run.</returns>
    public bool Check(IReadOnlyList<string> texts)
    {
        TextArguments.ThrowIfAnyNull(texts);
        Session.ThrowIfDisposed();
        return texts.Count > 0;
    }

    /// <summary>
    /// Runs <paramref name="encoding"/>'s rows in batches of similar lengths (<see cref="OnnxClassifierOptions.BatchSize"/>
    /// at a time) and returns the results in input order; <paramref name="decode"/> turns one batch (its row indices, the
    /// padded batch and the flat row-major <paramref name="output"/>) into one result per row.
    /// </summary>
    public TResult[] Run<TResult>(BatchEncoding encoding, string output, Func<int[], PaddedBatch, float[], IReadOnlyList<TResult>> decode)
    {
        EncodedText[] encoded = EncodedText.Rows(encoding);
        return LengthGroupedBatches.Run(encoded, Options.BatchSize, rows =>
        {
            PaddedBatch batch = PaddedBatch.Create(encoded, rows, Tokenizer.PadTokenId);
            return decode(rows, batch, Session.Run(batch, [output])[output]);
        });
    }

    /// <inheritdoc />
    public void Dispose() => Session.Dispose();
}
