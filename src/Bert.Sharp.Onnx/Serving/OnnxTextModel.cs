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
    private readonly BertTokenizer? wordPiece;

    private OnnxTextModel(string directory, OnnxModelSession session, ITextEncoder encoder, BertTokenizer? wordPiece, OnnxClassifierOptions options)
    {
        Directory = directory;
        Session = session;
        Encoder = encoder;
        this.wordPiece = wordPiece;
        Options = options;
        MaxLength = OnnxModelFolder.MaxLength(session.Metadata, encoder.ModelMaxLength, options);
    }

    /// <summary>The resolved model folder.</summary>
    public string Directory { get; }

    /// <summary>The ONNX Runtime session.</summary>
    public OnnxModelSession Session { get; }

    /// <summary>The folder's tokenizer as the servers encode with it: WordPiece (<see cref="BertTokenizer"/>) or a
    /// <c>tokenizer.json</c> byte-level BPE / Unigram tokenizer padded with the model's <c>pad_token_id</c>.</summary>
    public ITextEncoder Encoder { get; }

    /// <summary>The folder's WordPiece tokenizer (what the token classifier reads word pieces with).</summary>
    /// <exception cref="NotSupportedException">The folder's tokenizer is a subword <c>tokenizer.json</c>; the message names the folder.</exception>
    public BertTokenizer Tokenizer => wordPiece ?? throw new NotSupportedException(
        $"'{Directory}' holds a byte-level BPE / Unigram tokenizer.json (RoBERTa, XLM-R); this ONNX server reads WordPiece folders only. Serve it with OnnxTextClassifier, OnnxSentenceEmbedder, or Bert.Sharp's TokenClassifier.");

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
        BertTokenizer? wordPiece = null;
        ITextEncoder encoder;
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
            wordPiece = BertTokenizer.FromPretrained(resolved);
            encoder = new TokenizerTextEncoder(wordPiece);
        }

        OnnxModelSession session = OnnxModelSession.Open(Path.Combine(resolved, options.ModelFileName), options, typeof(T), requiredOutputs, expectedKind);
        try
        {
            return create(new OnnxTextModel(resolved, session, encoder, wordPiece, options));
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
    public TResult[] Run<TResult>(BatchEncoding encoding, string output, Func<int[], PaddedBatch, float[], IReadOnlyList<TResult>> decode) =>
        Run(EncodedText.Rows(encoding), output, decode);

    /// <summary>Encodes <paramref name="texts"/> (and <paramref name="pairs"/>) with <see cref="Encoder"/>, truncated to <see cref="MaxLength"/>, unpadded.</summary>
    public EncodedText[] Encode(IReadOnlyList<string> texts, IReadOnlyList<string>? pairs = null) => [.. Encoder.Encode(texts, pairs, MaxLength)];

    /// <summary>As <see cref="Run{TResult}(BatchEncoding, string, Func{int[], PaddedBatch, float[], IReadOnlyList{TResult}})"/>, on rows
    /// from <see cref="Encode"/>; batches are padded with <see cref="Encoder"/>'s pad id.</summary>
    public TResult[] Run<TResult>(IReadOnlyList<EncodedText> encoded, string output, Func<int[], PaddedBatch, float[], IReadOnlyList<TResult>> decode)
    {
        return LengthGroupedBatches.Run(encoded, Options.BatchSize, rows =>
        {
            PaddedBatch batch = PaddedBatch.Create(encoded, rows, Encoder.PadTokenId);
            return decode(rows, batch, Session.Run(batch, [output])[output]);
        });
    }

    /// <inheritdoc />
    public void Dispose() => Session.Dispose();
}
