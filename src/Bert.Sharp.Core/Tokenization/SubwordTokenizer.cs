using System.Text;
using Bert.Sharp.Tokenization;

namespace Bert.Sharp;

/// <summary>
/// A Hugging Face <c>tokenizer.json</c> tokenizer of the byte-level BPE (RoBERTa, ModernBERT) or SentencePiece Unigram
/// (XLM-RoBERTa) family, giving the ids of the Rust <c>tokenizers</c> library. Get one from
/// <see cref="AutoTokenizer.FromPretrained"/>. Immutable and safe to share between threads.
/// </summary>
public sealed partial class SubwordTokenizer : IPretrainedTokenizer
{
    private const int MetaspaceChar = 0x2581;
    private readonly TokenizerModelParts _parts;

    internal SubwordTokenizer(TokenizerModelParts parts, IReadOnlyDictionary<string, byte[]>? sourceFiles = null)
    {
        _parts = parts;
        SourceFiles = sourceFiles ?? new Dictionary<string, byte[]>();
        byte[]? config = SourceFiles.GetValueOrDefault(TokenizerFiles.ConfigFile);
        ModelMaxLength = TokenizerConfigValues.ModelMaxLength(config, TokenizerFiles.ConfigFile);
        (string Token, string File)? pad = TokenizerConfigValues.PadToken(config, TokenizerFiles.ConfigFile, SourceFiles.GetValueOrDefault(TokenizerFiles.SpecialTokensMapFile), TokenizerFiles.SpecialTokensMapFile);
        if (pad is (string token, string file))
        {
            PadToken = token;
            PadTokenId = parts.AddedTokens.FirstOrDefault(t => t.Content == token)?.Id
                ?? parts.IdToToken.Where(e => e.Value == token).Select(e => (int?)e.Key).FirstOrDefault()
                ?? throw new InvalidDataException($"'{file}': $.pad_token '{token}' is not a token of '{TokenizerFiles.TokenizerJsonFile}'.");
        }
    }

    /// <summary>The longest sequence the model takes, in tokens with the special ones (<c>tokenizer_config.json</c>'s
    /// <c>model_max_length</c>; <see cref="int.MaxValue"/> when it names none): what batches are truncated to by default.</summary>
    public int ModelMaxLength { get; }

    /// <summary>The padding token (<c>pad_token</c> of <c>tokenizer_config.json</c> or <c>special_tokens_map.json</c>), or
    /// <c>null</c> when neither names one: then a batch cannot be padded.</summary>
    public string? PadToken { get; }

    /// <summary>The id of <see cref="PadToken"/>, or <c>null</c>.</summary>
    public int? PadTokenId { get; }

    /// <summary>The tokenizer files this tokenizer was read from, byte for byte, by file name (<c>tokenizer.json</c>, and
    /// <c>tokenizer_config.json</c> / <c>special_tokens_map.json</c> when the folder had them): what a save writes back.</summary>
    internal IReadOnlyDictionary<string, byte[]> SourceFiles { get; }

    /// <summary>What the tokenizer was read as (template, special ids), for the serving encoders.</summary>
    internal TokenizerModelParts Parts => _parts;

    /// <summary>Which family this is (<see cref="TokenizerKind.ByteLevelBpe"/> or <see cref="TokenizerKind.Unigram"/>).</summary>
    public TokenizerKind Kind => _parts.Kind;

    /// <inheritdoc />
    public int VocabularySize => _parts.IdToToken.Count;

    /// <summary>The token of <paramref name="id"/>, or null when the id is unknown.</summary>
    public string? IdToToken(int id) => _parts.IdToToken.TryGetValue(id, out string? token) ? token : null;

    /// <inheritdoc />
    public IReadOnlyList<int> Encode(string text, string? pair = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        PostTemplate t = _parts.Template;
        var ids = new List<int>();
        if (pair is null)
        {
            ids.AddRange(t.SinglePrefix);
            ids.AddRange(EncodeSequence(text).Select(p => p.Id));
            ids.AddRange(t.SingleSuffix);
            return ids;
        }

        ids.AddRange(t.PairPrefix);
        ids.AddRange(EncodeSequence(text).Select(p => p.Id));
        ids.AddRange(t.PairMiddle);
        ids.AddRange(EncodeSequence(pair).Select(p => p.Id));
        ids.AddRange(t.PairSuffix);
        return ids;
    }

    /// <summary>The tokens of <paramref name="text"/> without special tokens around it, each with its id and its
    /// UTF-16 range in <paramref name="text"/>.</summary>
    public IReadOnlyList<(int Id, TokenOffset Offset)> EncodeWithOffsets(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return EncodeSequence(text).Select(p => (p.Id, new TokenOffset(p.Start, p.End))).ToArray();
    }

    /// <summary>This tokenizer as a Microsoft.ML.Tokenizers <see cref="Microsoft.ML.Tokenizers.Tokenizer"/>: ids of the text
    /// without special tokens, offsets into the text passed in, token budgets keeping the leading tokens.</summary>
    public Microsoft.ML.Tokenizers.Tokenizer AsTokenizer() => new SubwordTokenizerView(this);

    /// <inheritdoc />
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var builder = new StringBuilder();
        var bytes = new List<byte>();
        bool first = true;
        foreach (int id in ids)
        {
            if (!_parts.IdToToken.TryGetValue(id, out string? token))
            {
                throw new InvalidOperationException($"Id {id} is not in the vocabulary (size {VocabularySize}).");
            }

            bool special = _parts.SpecialIds.Contains(id);
            if (special && skipSpecialTokens)
            {
                continue;
            }

            if (_parts.Kind == TokenizerKind.ByteLevelBpe && !special)
            {
                foreach (char c in token)
                {
                    if (_parts.CharToByte.TryGetValue(c, out byte b))
                    {
                        bytes.Add(b);
                    }
                }

                continue;
            }

            FlushBytes(builder, bytes);
            if (_parts.Kind == TokenizerKind.Unigram && !special)
            {
                string piece = token.Replace('\u2581', ' ');
                if (first && _parts.PrependScheme != "never" && piece.StartsWith(' '))
                {
                    piece = piece[1..];
                }

                builder.Append(piece);
            }
            else
            {
                builder.Append(token);
            }

            first = false;
        }

        FlushBytes(builder, bytes);
        return builder.ToString();
    }

    private static void FlushBytes(StringBuilder builder, List<byte> bytes)
    {
        if (bytes.Count > 0)
        {
            builder.Append(Encoding.UTF8.GetString(bytes.ToArray()));
            bytes.Clear();
        }
    }

    private List<EncodedPiece> EncodeSequence(string text)
    {
        var output = new List<EncodedPiece>();
        int position = 0;
        foreach ((int start, int end, AddedToken token) in AddedTokenMatches(text))
        {
            EncodeSegment(text, position, start, output);
            output.Add(new EncodedPiece(token.Id, token.Content, start, end));
            position = end;
        }

        EncodeSegment(text, position, text.Length, output);
        return output;
    }

    // Leftmost-longest matches of the added tokens, widened over white space for lstrip/rstrip.
    private IEnumerable<(int Start, int End, AddedToken Token)> AddedTokenMatches(string text)
    {
        if (_parts.AddedTokens.Count == 0)
        {
            yield break;
        }

        int previousEnd = 0;
        int i = 0;
        while (i < text.Length)
        {
            AddedToken? best = null;
            foreach (AddedToken candidate in _parts.AddedTokens)
            {
                if (text.AsSpan(i).StartsWith(candidate.Content, StringComparison.Ordinal) && (best is null || candidate.Content.Length > best.Content.Length))
                {
                    best = candidate;
                }
            }

            if (best is null)
            {
                i++;
                continue;
            }

            int start = i;
            int end = i + best.Content.Length;
            if (best.LeftStrip)
            {
                while (start > previousEnd && WhiteSpace.Is(text[start - 1]))
                {
                    start--;
                }
            }

            if (best.RightStrip)
            {
                while (end < text.Length && WhiteSpace.Is(text[end]))
                {
                    end++;
                }
            }

            yield return (start, end, best);
            previousEnd = end;
            i = end;
        }
    }

    private void EncodeSegment(string text, int start, int end, List<EncodedPiece> output)
    {
        if (start >= end)
        {
            return;
        }

        AlignedText aligned = AlignedText.FromOriginal(text, start, end);
        _parts.Normalizer?.Normalize(aligned);
        if (aligned.Count == 0)
        {
            return;
        }

        if (_parts.Kind == TokenizerKind.ByteLevelBpe)
        {
            if (_parts.AddPrefixSpace && aligned[0].CodePoint != ' ')
            {
                aligned.Prepend(' ');
            }

            foreach ((int s, int e) in ByteLevelSplitter.Split(aligned))
            {
                _parts.Bpe!.Encode(aligned, s, e, output);
            }

            return;
        }

        aligned.ReplaceChar(' ', MetaspaceChar);
        bool prepend = _parts.PrependScheme == "always" || (_parts.PrependScheme == "first" && start == 0);
        if (prepend && aligned[0].CodePoint != MetaspaceChar)
        {
            aligned.Prepend(MetaspaceChar);
        }

        int pieceStart = 0;
        for (int k = 1; k <= aligned.Count; k++)
        {
            if (k == aligned.Count || (_parts.MetaspaceSplit && aligned[k].CodePoint == MetaspaceChar))
            {
                _parts.Unigram!.Encode(aligned, pieceStart, k, output);
                pieceStart = k;
            }
        }
    }
}
