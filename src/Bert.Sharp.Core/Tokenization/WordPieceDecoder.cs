using System.Text;

namespace Bert.Sharp.Tokenization;

/// <summary>
/// Hugging Face's WordPiece decoder, one piece at a time: pieces joined with spaces, <c>##</c> continuations glued to
/// their word, then its clean-up (no space before <c>. , ! ?</c> and contractions), applied to each piece as it does.
/// Pieces make it possible to decode into a fixed buffer, stopping cleanly when it is full.
/// </summary>
internal sealed class WordPieceDecoder
{
    private readonly WordPieceVocabulary _vocabulary;
    private readonly HashSet<int> _specialIds;

    public WordPieceDecoder(WordPieceVocabulary vocabulary, HashSet<int> specialIds)
    {
        _vocabulary = vocabulary;
        _specialIds = specialIds;
    }

    /// <summary>Whether <paramref name="id"/> is a special token ([CLS], [SEP], [PAD], ...).</summary>
    public bool IsSpecial(int id) => _specialIds.Contains(id);

    /// <summary>The text <paramref name="id"/> adds to the decoded string, or null when the id is not in the vocabulary.</summary>
    /// <param name="id">The token id.</param>
    /// <param name="first">Whether no piece was written before it (the first piece gets no leading space).</param>
    public string? Piece(int id, bool first)
    {
        string? token = _vocabulary.GetToken(id);
        if (token is null)
        {
            return null;
        }

        string prefix = _vocabulary.ContinuingSubwordPrefix;
        string piece = first ? token
            : prefix.Length > 0 && token.StartsWith(prefix, StringComparison.Ordinal) ? token[prefix.Length..]
            : " " + token;
        return CleanUp(piece);
    }

    /// <summary>Appends the decoded text of <paramref name="ids"/> to <paramref name="output"/>; false (with the
    /// offending id) when an id is not in the vocabulary.</summary>
    public bool TryDecode(IEnumerable<int> ids, bool skipSpecialTokens, StringBuilder output, out int invalidId)
    {
        bool first = true;
        foreach (int id in ids)
        {
            if (skipSpecialTokens && _specialIds.Contains(id))
            {
                continue;
            }

            string? piece = Piece(id, first);
            if (piece is null)
            {
                invalidId = id;
                return false;
            }

            output.Append(piece);
            first = false;
        }

        invalidId = 0;
        return true;
    }

    private static string CleanUp(string piece) => piece
        .Replace(" .", ".", StringComparison.Ordinal)
        .Replace(" ?", "?", StringComparison.Ordinal)
        .Replace(" !", "!", StringComparison.Ordinal)
        .Replace(" ,", ",", StringComparison.Ordinal)
        .Replace(" ' ", "'", StringComparison.Ordinal)
        .Replace(" n't", "n't", StringComparison.Ordinal)
        .Replace(" 'm", "'m", StringComparison.Ordinal)
        .Replace(" do not", " don't", StringComparison.Ordinal)
        .Replace(" 's", "'s", StringComparison.Ordinal)
        .Replace(" 've", "'ve", StringComparison.Ordinal)
        .Replace(" 're", "'re", StringComparison.Ordinal);
}
