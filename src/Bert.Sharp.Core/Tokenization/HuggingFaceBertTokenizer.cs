using System.Buffers;
using System.Text;
using Bert.Sharp.Tokenization;
using Microsoft.ML.Tokenizers;

namespace Bert.Sharp;

/// <summary>
/// A <see cref="BertTokenizer"/> seen as a <see cref="Tokenizer"/> of Microsoft.ML.Tokenizers, for .NET code written
/// against that abstraction (text chunkers, token budgets, Semantic Kernel and Microsoft.Extensions.AI helpers): the
/// ids are exactly Hugging Face's, unlike those of <c>Microsoft.ML.Tokenizers.BertTokenizer</c>.
/// Get one from <see cref="BertTokenizer.AsTokenizer"/>.
/// </summary>
/// <remarks>
/// <para><b>Special tokens.</b> When <see cref="AddsSpecialTokens"/> is true (the default), every encoding is
/// <c>[CLS] text [SEP]</c>, as <see cref="BertTokenizer.Encode"/> gives it, and token counts and budgets include those
/// two tokens, so a budget of the model's 512 trims a text to what the model takes. [CLS] has the empty range at the
/// start of the text, [SEP] the empty range at the end of the encoded text.</para>
/// <para><b>Offsets</b> are ranges of the text passed in, never of a normalized copy: normalization (clean-up,
/// lower-casing, accent stripping) is done per character and remembers where each character came from. That is why
/// <see cref="Normalizer"/> and <see cref="PreTokenizer"/> are null and every <c>normalizedText</c> out parameter is
/// null: index into the original text.</para>
/// <para><b>Budgets</b> (<c>GetIndexByTokenCount</c>, <c>EncodeToIds</c> with a maximum) never cut a word between its
/// WordPiece pieces: the kept text, encoded again, gives exactly the kept tokens.</para>
/// <para><b>Flags.</b> <c>considerNormalization: false</c> skips clean-up, lower-casing, accent stripping and the
/// spacing of CJK characters (for text already normalized); <c>considerPreTokenization: false</c> takes the text
/// (between special tokens written in it) as one word, without splitting at white space or punctuation. Both default to
/// true, which is Hugging Face's pipeline.</para>
/// <para>Instances are immutable and safe to share between threads.</para>
/// </remarks>
public sealed class HuggingFaceBertTokenizer : Tokenizer
{
    private readonly BertTextEncoder _normalizing;
    private readonly BertTextEncoder _verbatim;
    private readonly WordPieceVocabulary _vocabulary;
    private readonly WordPieceDecoder _decoder;
    private readonly int _specialCount;

    internal HuggingFaceBertTokenizer(BertTokenizer tokenizer, bool addSpecialTokens)
    {
        BertTokenizer = tokenizer;
        AddsSpecialTokens = addSpecialTokens;
        _normalizing = tokenizer.TextEncoder;
        _verbatim = tokenizer.TextEncoder.WithoutNormalization();
        _vocabulary = tokenizer.Vocabulary;
        _decoder = tokenizer.Decoder;
        _specialCount = addSpecialTokens ? 2 : 0;
    }

    /// <summary>The tokenizer behind this view.</summary>
    public BertTokenizer BertTokenizer { get; }

    /// <summary>Whether encodings are wrapped in [CLS] … [SEP] (and counts include them).</summary>
    public bool AddsSpecialTokens { get; }

    /// <summary>Turns ids back into text as <see cref="BertTokenizer.Decode"/> does.</summary>
    /// <param name="ids">The ids.</param>
    /// <param name="skipSpecialTokens">Leave out [CLS], [SEP], [PAD] and the other special tokens.</param>
    /// <exception cref="InvalidOperationException">An id is not in the vocabulary.</exception>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var text = new StringBuilder();
        return _decoder.TryDecode(ids, skipSpecialTokens, text, out int invalid)
            ? text.ToString()
            : throw new InvalidOperationException($"Id {invalid} is not in the vocabulary (size {_vocabulary.Count}).");
    }

    /// <summary>Turns ids back into text, leaving out special tokens (as <see cref="BertTokenizer.Decode"/> does by default).</summary>
    /// <exception cref="InvalidOperationException">An id is not in the vocabulary.</exception>
    public override string Decode(IEnumerable<int> ids) => Decode(ids, skipSpecialTokens: true);

    /// <summary>Decodes into <paramref name="destination"/>, leaving out special tokens; stops before the first piece
    /// that does not fit (<see cref="OperationStatus.DestinationTooSmall"/>) or the first id outside the vocabulary
    /// (<see cref="OperationStatus.InvalidData"/>).</summary>
    public override OperationStatus Decode(IEnumerable<int> ids, Span<char> destination, out int idsConsumed, out int charsWritten)
    {
        ArgumentNullException.ThrowIfNull(ids);
        idsConsumed = 0;
        charsWritten = 0;
        bool first = true;
        foreach (int id in ids)
        {
            if (_decoder.IsSpecial(id))
            {
                idsConsumed++;
                continue;
            }

            string? piece = _decoder.Piece(id, first);
            if (piece is null)
            {
                return OperationStatus.InvalidData;
            }

            if (piece.Length > destination.Length - charsWritten)
            {
                return OperationStatus.DestinationTooSmall;
            }

            piece.CopyTo(destination[charsWritten..]);
            charsWritten += piece.Length;
            idsConsumed++;
            first = false;
        }

        return OperationStatus.Done;
    }

    /// <inheritdoc />
    protected override EncodeResults<EncodedToken> EncodeToTokens(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        ReadOnlySpan<char> input = text is null ? textSpan : text.AsSpan();
        if (EncodeWithinBudget(input, settings) is not { } encoded)
        {
            return new EncodeResults<EncodedToken> { Tokens = [], CharsConsumed = 0 };
        }

        (TokenBuffer tokens, int kept) = encoded;
        int consumed = Consumed(tokens, kept, input.Length);
        var result = new List<EncodedToken>(kept + _specialCount);
        if (AddsSpecialTokens)
        {
            result.Add(new EncodedToken(BertTokenizer.ClsTokenId, BertTokenizer.Options.ClsToken, new Range(0, 0)));
        }

        for (int i = 0; i < kept; i++)
        {
            int id = tokens.Ids[i];
            result.Add(new EncodedToken(id, _vocabulary.GetToken(id)!, new Range(tokens.Starts[i], tokens.Ends[i])));
        }

        if (AddsSpecialTokens)
        {
            result.Add(new EncodedToken(BertTokenizer.SepTokenId, BertTokenizer.Options.SepToken, new Range(consumed, consumed)));
        }

        return new EncodeResults<EncodedToken> { Tokens = result, CharsConsumed = consumed };
    }

    /// <inheritdoc />
    protected override EncodeResults<int> EncodeToIds(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        ReadOnlySpan<char> input = text is null ? textSpan : text.AsSpan();
        if (EncodeWithinBudget(input, settings) is not { } encoded)
        {
            return new EncodeResults<int> { Tokens = [], CharsConsumed = 0 };
        }

        (TokenBuffer tokens, int kept) = encoded;
        var ids = new int[kept + _specialCount];
        tokens.Ids[..kept].CopyTo(ids.AsSpan(_specialCount / 2));
        if (AddsSpecialTokens)
        {
            ids[0] = BertTokenizer.ClsTokenId;
            ids[^1] = BertTokenizer.SepTokenId;
        }

        return new EncodeResults<int> { Tokens = ids, CharsConsumed = Consumed(tokens, kept, input.Length) };
    }

    /// <inheritdoc />
    protected override int CountTokens(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings) =>
        EncodeWithinBudget(text is null ? textSpan : text.AsSpan(), settings) is { } encoded ? encoded.Kept + _specialCount : 0;

    // The text's tokens and how many of them, from the start, fit the budget beside [CLS] and [SEP]; null when not even those fit.
    private (TokenBuffer Tokens, int Kept)? EncodeWithinBudget(ReadOnlySpan<char> input, EncodeSettings settings)
    {
        int budget = Budget(settings);
        if (budget < _specialCount)
        {
            return null;
        }

        TokenBuffer tokens = Encode(input, settings);
        return (tokens, KeptFromStart(tokens, budget - _specialCount));
    }

    /// <summary>
    /// The index where to cut the text so that the kept part encodes to at most
    /// <see cref="EncodeSettings.MaxTokenCount"/> tokens (counting [CLS] and [SEP] when they are added), without
    /// splitting a word: from the start, the index after the last kept character (0 when nothing fits, the text's
    /// length when everything does); from the end, the index of the first kept character (the text's length when
    /// nothing fits, 0 when everything does).
    /// </summary>
    protected override int GetIndexByTokenCount(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings, bool fromEnd, out string? normalizedText, out int tokenCount)
    {
        normalizedText = null;
        ReadOnlySpan<char> input = text is null ? textSpan : text.AsSpan();
        int budget = Budget(settings);
        if (budget < _specialCount)
        {
            tokenCount = 0;
            return fromEnd ? input.Length : 0;
        }

        TokenBuffer tokens = Encode(input, settings);
        if (!fromEnd)
        {
            int kept = KeptFromStart(tokens, budget - _specialCount);
            tokenCount = kept + _specialCount;
            return Consumed(tokens, kept, input.Length);
        }

        int first = FirstKeptFromEnd(tokens, budget - _specialCount);
        tokenCount = tokens.Count - first + _specialCount;
        return first == 0 ? 0 : first == tokens.Count ? input.Length : tokens.Starts[first];
    }

    private static int Budget(EncodeSettings settings) => settings.MaxTokenCount > 0
        ? settings.MaxTokenCount
        : throw new ArgumentOutOfRangeException(nameof(settings), settings.MaxTokenCount, "The maximum token count must be greater than zero.");

    // Chars of the text covered by the first `kept` tokens: all of it when every token is kept.
    private static int Consumed(TokenBuffer tokens, int kept, int length) =>
        kept == tokens.Count ? length : kept == 0 ? 0 : tokens.Ends[kept - 1];

    // The tokens of this thread's scratch buffer: valid until the next encoding on this thread.
    private TokenBuffer Encode(ReadOnlySpan<char> text, EncodeSettings settings)
    {
        TokenizerScratch scratch = TokenizerScratch.Current;
        TokenBuffer tokens = scratch.First;
        tokens.Clear();
        BertTextEncoder encoder = settings.ConsiderNormalization ? _normalizing : _verbatim;
        if (settings.ConsiderPreTokenization)
        {
            encoder.Encode(text, tokens, scratch.Word);
        }
        else
        {
            encoder.EncodeAsOneWord(text, tokens, scratch.Word);
        }

        return tokens;
    }

    // How many leading tokens fit in `budget`: all when they fit, else the most that end at a word boundary.
    private int KeptFromStart(TokenBuffer tokens, int budget)
    {
        if (tokens.Count <= budget)
        {
            return tokens.Count;
        }

        for (int k = budget; k > 0; k--)
        {
            if (IsBoundary(tokens, k))
            {
                return k;
            }
        }

        return 0;
    }

    // Index of the first of the trailing tokens that fit in `budget` (Count when none does).
    private int FirstKeptFromEnd(TokenBuffer tokens, int budget)
    {
        if (tokens.Count <= budget)
        {
            return 0;
        }

        for (int j = tokens.Count - budget; j < tokens.Count; j++)
        {
            if (IsBoundary(tokens, j))
            {
                return j;
            }
        }

        return tokens.Count;
    }

    // Cutting between tokens k-1 and k leaves both sides' encodings unchanged when token k starts a word (it is not a
    // ## continuation) and the two share no character (one character can expand to several tokens' worth of text).
    private bool IsBoundary(TokenBuffer tokens, int k) =>
        !_vocabulary.IsContinuation(tokens.Ids[k]) && tokens.Ends[k - 1] <= tokens.Starts[k];
}
