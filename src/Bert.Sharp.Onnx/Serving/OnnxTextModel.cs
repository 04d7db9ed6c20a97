using Bert.Sharp.Inference;
using Bert.Sharp.IO;

namespace Bert.Sharp.Serving;

/// <summary>
/// What the three ONNX Runtime servers share: loading (options checked, folder resolved once, tokenizer, session checked
/// for the task's outputs), the encoding of texts (no padding, truncated to the model's maximum) and the length-grouped
/// batch loop (<see cref="LengthGroupedBatches"/>, the runner of the TorchSharp classes too), so each server only says how
/// a batch's flat output becomes its results.
/// </summary>
internal sealed class OnnxTextModel : IDisposable
{
    private OnnxTextModel(string directory, OnnxModelSession session, IServingTextEncoder encoder, OnnxClassifierOptions options)
    {
        Directory = directory;
        Session = session;
        Encoder = encoder;
        Options = options;
        MaxLength = OnnxModelFolder.MaxLength(session.Metadata, encoder.ModelMaxLength, options);
    }

    /// <summary>The resolved model folder.</summary>
    public string Directory { get; }

    /// <summary>The ONNX Runtime session.</summary>
    public OnnxModelSession Session { get; }

    /// <summary>The folder's tokenizer as the servers encode with it: WordPiece (<see cref="BertTokenizer"/>) or a
    /// <c>tokenizer.json</c> byte-level BPE / Unigram tokenizer padded with the model's <c>pad_token_id</c>; it also gives
    /// each token's piece, offsets and word start (token classification).</summary>
    public IServingTextEncoder Encoder { get; }

    /// <summary>The validated options.</summary>
    public OnnxClassifierOptions Options { get; }

    /// <summary>Longest input in tokens: the options', the graph's and the tokenizer's limits, the smallest.</summary>
    public int MaxLength { get; }

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
        IServingTextEncoder encoder;
        if (ServingTextEncoders.IsSubword(resolved))
        {
            // RoBERTa / XLM-R: padded with the model's pad_token_id (RoBERTa numbers positions from it), at most the positions after it.
            string configPath = Path.Combine(resolved, FolderFileNames.Config);
            if (!File.Exists(configPath))
            {
                throw new FileNotFoundException($"'{resolved}' holds a subword tokenizer.json but no config.json: its pad_token_id is needed to serve it (export with CopyServingFiles).", configPath);
            }

            BertConfig config = BertConfig.Load(configPath);
            encoder = ServingTextEncoders.Load(resolved, config.PadTokenId);
        }
        else
        {
            encoder = new TokenizerTextEncoder(BertTokenizer.FromPretrained(resolved));
        }

        OnnxModelSession session = OnnxModelSession.Open(OnnxModelFolder.ModelPath(resolved, options.ModelFileName), options, typeof(T), requiredOutputs, expectedKind);
        try
        {
            return create(new OnnxTextModel(resolved, session, encoder, options));
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

    /// <summary>Encodes <paramref name="texts"/> (and <paramref name="pairs"/>) with <see cref="Encoder"/>, truncated to <see cref="MaxLength"/>, unpadded.</summary>
    public EncodedText[] Encode(IReadOnlyList<string> texts, IReadOnlyList<string>? pairs = null) => [.. Encoder.Encode(texts, pairs, MaxLength)];

    /// <summary>
    /// Runs <paramref name="encoded"/> (rows from <see cref="Encode"/> or <see cref="Encoder"/>) in batches of similar
    /// lengths (<see cref="OnnxClassifierOptions.BatchSize"/> at a time, padded with the encoder's pad id) and returns the
    /// results in input order; <paramref name="decode"/> turns one batch (its row indices, the padded batch and the flat
    /// row-major <paramref name="output"/>) into one result per row. <paramref name="cancellationToken"/> is checked before each batch.
    /// </summary>
    public TResult[] Run<TResult>(IReadOnlyList<EncodedText> encoded, string output, Func<int[], PaddedBatch, float[], IReadOnlyList<TResult>> decode,
        CancellationToken cancellationToken = default)
    {
        return LengthGroupedBatches.Run(encoded, Options.BatchSize, rows =>
        {
            PaddedBatch batch = PaddedBatch.Create(encoded, rows, Encoder.PadTokenId);
            return decode(rows, batch, Session.Run(batch, [output])[output]);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public void Dispose() => Session.Dispose();
}
