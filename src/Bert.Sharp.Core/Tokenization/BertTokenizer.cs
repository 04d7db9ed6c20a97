using Bert.Sharp.Hub;
using System.Text;
using Bert.Sharp.IO;
using Bert.Sharp.Tokenization;

namespace Bert.Sharp;

/// <summary>
/// BERT's WordPiece tokenizer, producing exactly the ids of Hugging Face's (<c>BertTokenizerFast</c>) for any text:
/// the same clean-up, CJK splitting, lower-casing and accent stripping, punctuation splitting, over-long words and
/// special tokens written in the text.
/// </summary>
/// <remarks>
/// <para>Load it the way the model was saved: <see cref="FromPretrained"/> for a checkpoint directory,
/// <see cref="FromVocabulary"/> for a bare <c>vocab.txt</c>, <see cref="FromTokenizerJson"/> for a
/// <c>tokenizer.json</c>. Use <see cref="Encode"/> for one text and
/// <see cref="EncodeBatch(IReadOnlyList{string}, EncodingOptions?)"/> to get a padded batch (and tensors) for a model.</para>
/// <para>Instances are immutable and safe to share between threads.</para>
/// </remarks>
public sealed partial class BertTokenizer : IPretrainedTokenizer
{
    private readonly WordPieceVocabulary _vocabulary;
    private readonly BertTextEncoder _encoder;
    private readonly IReadOnlyList<string> _addedSpecialTokens;
    private readonly WordPieceDecoder _decoder;
    private readonly int _padId;
    private readonly int _maskId;

    private BertTokenizer(TokenizerDefinition definition)
    {
        BertTokenizerOptions options = definition.Options;
        if (options.MaxInputCharsPerWord < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(definition), options.MaxInputCharsPerWord, "MaxInputCharsPerWord must be at least 1.");
        }

        if (options.ModelMaxLength < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(definition), options.ModelMaxLength, "ModelMaxLength must be at least 1.");
        }

        _vocabulary = new WordPieceVocabulary(definition.Vocabulary, definition.ContinuingSubwordPrefix, definition.Source);
        Options = options;
        UnkTokenId = RequiredId(options.UnknownToken, "unknown", definition.Source);
        ClsTokenId = RequiredId(options.ClsToken, "classification", definition.Source);
        SepTokenId = RequiredId(options.SepToken, "separator", definition.Source);
        _padId = _vocabulary.TryGetId(options.PadToken, out int pad) ? pad : -1;
        _maskId = _vocabulary.TryGetId(options.MaskToken, out int mask) ? mask : -1;
        _addedSpecialTokens = definition.AddedSpecialTokens;

        var inText = new List<(string, int)>();
        var specialIds = new HashSet<int>();
        foreach (string token in new[] { options.PadToken, options.UnknownToken, options.ClsToken, options.SepToken, options.MaskToken }.Concat(_addedSpecialTokens))
        {
            if (_vocabulary.TryGetId(token, out int id))
            {
                inText.Add((token, id));
                specialIds.Add(id);
            }
        }

        _decoder = new WordPieceDecoder(_vocabulary, specialIds);

        _encoder = new BertTextEncoder(
            _vocabulary,
            new SpecialTokenMatcher(inText),
            options.CleanText,
            options.DoLowerCase,
            options.EffectiveStripAccents,
            options.TokenizeChineseChars,
            options.MaxInputCharsPerWord,
            UnkTokenId);
    }

    /// <summary>The normalization settings and special tokens in force.</summary>
    public BertTokenizerOptions Options { get; }

    /// <summary>Number of token ids (the size of the model's embedding table).</summary>
    public int VocabularySize => _vocabulary.Count;

    /// <summary>The longest sequence the model accepts (<c>model_max_length</c>, 512 unless the files say otherwise).</summary>
    public int ModelMaxLength => Options.ModelMaxLength;

    /// <summary>Id of the unknown token.</summary>
    public int UnkTokenId { get; }

    /// <summary>Id of the classification token that starts every sequence.</summary>
    public int ClsTokenId { get; }

    /// <summary>Id of the separator token.</summary>
    public int SepTokenId { get; }

    /// <summary>Id of the padding token.</summary>
    /// <exception cref="InvalidOperationException">The vocabulary has no padding token.</exception>
    public int PadTokenId => _padId >= 0 ? _padId
        : throw new InvalidOperationException($"The vocabulary has no padding token '{Options.PadToken}'.");

    /// <summary>Id of the mask token.</summary>
    /// <exception cref="InvalidOperationException">The vocabulary has no mask token.</exception>
    public int MaskTokenId => _maskId >= 0 ? _maskId
        : throw new InvalidOperationException($"The vocabulary has no mask token '{Options.MaskToken}'.");

    /// <summary>
    /// <see cref="FromPretrained(string, PretrainedResolveOptions?)"/> that downloads asynchronously: a Hub model id is fetched into the shared
    /// cache without blocking the calling thread (cancellation and the Hub timeouts apply), then the local folder is loaded.
    /// </summary>
    /// <param name="directoryOrModelId">A local directory, or a Hugging Face model id.</param>
    /// <param name="hub">How a model id is fetched (revision, token, offline mode, progress); <c>null</c> for the defaults.</param>
    /// <param name="cancellationToken">Cancels the download; a partial file is kept and resumed next time.</param>
    /// <returns>What the synchronous form returns.</returns>
    /// <exception cref="HubException">The model could not be fetched.</exception>
    public static Task<BertTokenizer> FromPretrainedAsync(string directoryOrModelId, PretrainedResolveOptions? hub = null, CancellationToken cancellationToken = default) =>
        PretrainedLoading.ResolveThenLoadAsync(directoryOrModelId, hub, resolved => FromPretrained(resolved), cancellationToken);

    /// <summary>
    /// Loads the tokenizer of a Hugging Face checkpoint directory: <c>tokenizer.json</c> when present, otherwise
    /// <c>vocab.txt</c>; <c>tokenizer_config.json</c> and <c>special_tokens_map.json</c> supply the settings.
    /// </summary>
    /// <param name="directoryOrModelId">A local directory (as written by <see cref="SavePretrained"/> or <c>save_pretrained</c>), or a
    /// Hugging Face model id, resolved through the shared Hub cache by <see cref="PretrainedResolver"/>.</param>
    /// <exception cref="DirectoryNotFoundException">The path does not exist or is a file.</exception>
    /// <exception cref="FileNotFoundException">The directory has neither <c>tokenizer.json</c> nor <c>vocab.txt</c>.</exception>
    /// <exception cref="InvalidDataException">A file is malformed or lacks [UNK], [CLS] or [SEP]; the message names it.</exception>
    /// <param name="hub">How a model id is fetched (revision, token, offline mode, progress); <c>null</c> for the defaults.</param>
    /// <exception cref="HubException">A model id could not be fetched from the Hub.</exception>
    public static BertTokenizer FromPretrained(string directoryOrModelId, PretrainedResolveOptions? hub = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directoryOrModelId);
        if (File.Exists(directoryOrModelId))
        {
            throw new DirectoryNotFoundException($"'{directoryOrModelId}' is a file; FromPretrained expects a directory with vocab.txt or tokenizer.json.");
        }

        string directory = PretrainedResolver.ResolveDirectory(directoryOrModelId, hub);
        string config = Path.Combine(directory, TokenizerFiles.ConfigFile);
        string map = Path.Combine(directory, TokenizerFiles.SpecialTokensMapFile);
        string json = Path.Combine(directory, TokenizerFiles.TokenizerJsonFile);
        string vocab = Path.Combine(directory, TokenizerFiles.VocabFile);
        BertTokenizerOptions options = TokenizerFiles.ReadConfig(config, map, new BertTokenizerOptions());
        if (File.Exists(json))
        {
            return new BertTokenizer(TokenizerFiles.ReadTokenizerJson(json, options));
        }

        if (File.Exists(vocab))
        {
            return FromVocabulary(vocab, options);
        }

        throw new FileNotFoundException(
            $"Tokenizer directory '{directory}' has neither {TokenizerFiles.TokenizerJsonFile} nor {TokenizerFiles.VocabFile}.", vocab);
    }

    /// <summary>Builds a tokenizer from a BERT <c>vocab.txt</c> (one token per line) and settings.</summary>
    /// <param name="vocabPath">Path of the vocabulary file.</param>
    /// <param name="options">Normalization and special tokens; null uses the <c>bert-base-uncased</c> defaults.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The vocabulary is empty or lacks [UNK], [CLS] or [SEP].</exception>
    public static BertTokenizer FromVocabulary(string vocabPath, BertTokenizerOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(vocabPath);
        var entries = TokenizerFiles.ReadVocabulary(vocabPath);
        return new BertTokenizer(new TokenizerDefinition(entries, options ?? new BertTokenizerOptions(), "##", [], vocabPath));
    }

    /// <summary>Builds a tokenizer from a Hugging Face <c>tokenizer.json</c> (WordPiece model, BertNormalizer,
    /// BertPreTokenizer). Settings the file does not hold (such as <c>model_max_length</c>) come from <paramref name="options"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not valid JSON or misses a key; the message names the JSON path.</exception>
    /// <exception cref="NotSupportedException">The file describes another model or normalizer.</exception>
    public static BertTokenizer FromTokenizerJson(string path, BertTokenizerOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Tokenizer file '{path}' does not exist.", path);
        }

        return new BertTokenizer(TokenizerFiles.ReadTokenizerJson(path, options ?? new BertTokenizerOptions()));
    }

    /// <summary>Writes <c>vocab.txt</c>, <c>tokenizer_config.json</c>, <c>special_tokens_map.json</c> and
    /// <c>tokenizer.json</c> to <paramref name="directory"/> (created if needed) as one unit; other files are left alone.
    /// Hugging Face's <c>AutoTokenizer.from_pretrained</c> and <see cref="FromPretrained"/> read the result.</summary>
    public void SavePretrained(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        var writer = new ModelFolderWriter(directory);
        AddFilesTo(writer);
        writer.Commit();
    }

    /// <summary>Adds this tokenizer's files to a model folder save (so a model and its tokenizer are written as one unit).</summary>
    internal void AddFilesTo(ModelFolderWriter writer) => TokenizerFileWriter.AddTo(writer, _vocabulary, Options, _addedSpecialTokens);

    /// <summary>
    /// Token ids of <paramref name="text"/> (and <paramref name="pair"/>) with [CLS] and [SEP]:
    /// <c>[CLS] text [SEP]</c> or <c>[CLS] text [SEP] pair [SEP]</c>. No truncation: use
    /// <see cref="EncodeBatch(IReadOnlyList{string}, EncodingOptions?)"/> for model-ready input.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    public IReadOnlyList<int> Encode(string text, string? pair = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        (TokenBuffer first, TokenBuffer? second) = EncodeToScratch(text, pair);

        int total = first.Count + 2 + (second is null ? 0 : second.Count + 1);
        var ids = new int[total];
        ids[0] = ClsTokenId;
        first.Ids.CopyTo(ids.AsSpan(1));
        ids[first.Count + 1] = SepTokenId;
        if (second is not null)
        {
            second.Ids.CopyTo(ids.AsSpan(first.Count + 2));
            ids[^1] = SepTokenId;
        }

        return ids;
    }

    /// <summary>
    /// Allocation-free <see cref="Encode"/>: writes the ids of <c>[CLS] text [SEP]</c> to
    /// <paramref name="destination"/>. For hot loops that reuse one buffer; the ids are the same as
    /// <see cref="Encode"/>'s (no truncation).
    /// </summary>
    /// <param name="text">The text to encode.</param>
    /// <param name="destination">Where the ids go, from index 0.</param>
    /// <param name="written">The number of ids written; when the method returns false, the length
    /// <paramref name="destination"/> needs instead.</param>
    /// <returns>True when the ids fit in <paramref name="destination"/>; false (nothing written) otherwise.</returns>
    public bool TryEncode(ReadOnlySpan<char> text, Span<int> destination, out int written)
    {
        TokenizerScratch scratch = TokenizerScratch.Current;
        TokenBuffer tokens = scratch.First;
        tokens.Clear();
        _encoder.Encode(text, tokens, scratch.Word);
        written = tokens.Count + 2;
        if (written > destination.Length)
        {
            return false;
        }

        destination[0] = ClsTokenId;
        tokens.Ids.CopyTo(destination[1..]);
        destination[written - 1] = SepTokenId;
        return true;
    }

    /// <summary>
    /// Encodes words that are already split (a CoNLL sentence), as Hugging Face does with <c>is_split_into_words=True</c>: each
    /// word is normalized and split on its own, the pieces are joined between [CLS] and [SEP], and every token records the
    /// word it came from. Words that yield no token (whitespace, control characters) get none. Longer sequences are cut to
    /// <paramref name="maxLength"/> tokens (default: <see cref="ModelMaxLength"/>).
    /// </summary>
    /// <exception cref="ArgumentException">A word is null, or <paramref name="maxLength"/> is below 2.</exception>
    public WordEncoding EncodeWords(IReadOnlyList<string> words, int? maxLength = null)
    {
        ArgumentNullException.ThrowIfNull(words);
        int limit = maxLength ?? ModelMaxLength;
        if (limit < 2)
        {
            throw new ArgumentException($"maxLength must be at least 2 ([CLS] and [SEP]), got {limit}.", nameof(maxLength));
        }

        TokenizerScratch scratch = TokenizerScratch.Current;
        TokenBuffer buffer = scratch.First;
        var ids = new List<int>(words.Count + 2) { ClsTokenId };
        var wordIds = new List<int?>(words.Count + 2) { null };
        int kept = 0;
        for (int w = 0; w < words.Count && ids.Count < limit - 1; w++)
        {
            string word = words[w] ?? throw new ArgumentException($"Word #{w} is null.", nameof(words));
            buffer.Clear();
            _encoder.Encode(word, buffer, scratch.Word);
            int take = Math.Min(buffer.Count, limit - 1 - ids.Count);
            for (int t = 0; t < take; t++)
            {
                ids.Add(buffer.Ids[t]);
                wordIds.Add(w);
            }

            kept = take > 0 || buffer.Count == 0 ? w + 1 : kept;
        }

        ids.Add(SepTokenId);
        wordIds.Add(null);
        return new WordEncoding(ids, wordIds, kept);
    }

    /// <summary>The WordPiece tokens of <paramref name="text"/>, without [CLS]/[SEP] (Hugging Face's <c>tokenize</c>).</summary>
    public IReadOnlyList<string> Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        TokenizerScratch scratch = TokenizerScratch.Current;
        TokenBuffer buffer = scratch.First;
        buffer.Clear();
        _encoder.Encode(text, buffer, scratch.Word);
        var tokens = new string[buffer.Count];
        for (int i = 0; i < tokens.Length; i++)
        {
            tokens[i] = _vocabulary.GetToken(buffer.Ids[i])!;
        }

        return tokens;
    }

    /// <summary>
    /// Turns ids back into text as Hugging Face's WordPiece decoder does: pieces joined with spaces, <c>##</c>
    /// continuations glued to their word, spaces before <c>. , ! ?</c> and contractions removed. Lower-casing and
    /// stripped accents are not undone.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is not in the vocabulary.</exception>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var text = new StringBuilder();
        return _decoder.TryDecode(ids, skipSpecialTokens, text, out int invalid)
            ? text.ToString()
            : throw new ArgumentOutOfRangeException(nameof(ids), invalid, $"Id {invalid} is not in the vocabulary (size {VocabularySize}).");
    }

    /// <summary>
    /// This tokenizer as a <c>Microsoft.ML.Tokenizers.Tokenizer</c>, for code written against that abstraction (token
    /// counting, trimming to a token budget, chunking): the same Hugging Face ids, offsets into the original text.
    /// </summary>
    /// <param name="addSpecialTokens">Wrap every encoding in [CLS] … [SEP], as <see cref="Encode"/> does, and count
    /// those two tokens in budgets; false for the text's own tokens only.</param>
    public HuggingFaceBertTokenizer AsTokenizer(bool addSpecialTokens = true) => new(this, addSpecialTokens);

    /// <summary>The token of <paramref name="id"/>, or null when the id is not in the vocabulary.</summary>
    public string? IdToToken(int id) => _vocabulary.GetToken(id);

    /// <summary>The id of <paramref name="token"/> (exact, no normalization), or null when it is not in the vocabulary.</summary>
    public int? TokenToId(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return _vocabulary.TryGetId(token, out int id) ? id : null;
    }

    /// <summary>The tokens of <paramref name="ids"/>; ids outside the vocabulary give the unknown token.</summary>
    public IReadOnlyList<string> ConvertIdsToTokens(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        return ids.Select(id => _vocabulary.GetToken(id) ?? Options.UnknownToken).ToArray();
    }

    /// <summary>The ids of <paramref name="tokens"/>; tokens outside the vocabulary give <see cref="UnkTokenId"/>.</summary>
    public IReadOnlyList<int> ConvertTokensToIds(IEnumerable<string> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        return tokens.Select(t => _vocabulary.TryGetId(t ?? string.Empty, out int id) ? id : UnkTokenId).ToArray();
    }

    /// <summary>Text → tokens with offsets, Hugging Face's pipeline (for <see cref="HuggingFaceBertTokenizer"/>).</summary>
    internal BertTextEncoder TextEncoder => _encoder;

    /// <summary>The WordPiece vocabulary.</summary>
    internal WordPieceVocabulary Vocabulary => _vocabulary;

    /// <summary>Ids → text, piece by piece.</summary>
    internal WordPieceDecoder Decoder => _decoder;

    // Encodes a text (and its pair) into this thread's scratch buffers, without special tokens.
    private (TokenBuffer First, TokenBuffer? Second) EncodeToScratch(string text, string? pair)
    {
        TokenizerScratch scratch = TokenizerScratch.Current;
        TokenBuffer first = scratch.First;
        first.Clear();
        _encoder.Encode(text, first, scratch.Word);
        if (pair is null)
        {
            return (first, null);
        }

        TokenBuffer second = scratch.Second;
        second.Clear();
        _encoder.Encode(pair, second, scratch.Word);
        return (first, second);
    }

    private int RequiredId(string token, string role, string source) =>
        _vocabulary.TryGetId(token, out int id)
            ? id
            : throw new InvalidDataException($"'{source}': the vocabulary has no {role} token '{token}'; a BERT vocabulary needs it.");
}
