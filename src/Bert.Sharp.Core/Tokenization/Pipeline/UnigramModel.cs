namespace Bert.Sharp.Tokenization;

/// <summary>
/// Hugging Face's <c>Unigram</c> model (its <c>encode_optimized</c> Viterbi): best-scoring segmentation over the
/// vocabulary pieces, an unknown code point scoring the minimum score minus 10, consecutive unknowns fused.
/// </summary>
internal sealed class UnigramModel
{
    private const double UnknownPenalty = 10.0;
    private readonly Dictionary<string, int> _ids;
    private readonly double[] _scores;
    private readonly int _unkId;
    private readonly int _maxPieceLength;
    private readonly double _unkScore;

    public UnigramModel(IReadOnlyList<(string Piece, double Score)> vocab, int unkId)
    {
        _ids = new Dictionary<string, int>(vocab.Count, StringComparer.Ordinal);
        _scores = new double[vocab.Count];
        double min = double.PositiveInfinity;
        for (int i = 0; i < vocab.Count; i++)
        {
            _ids[vocab[i].Piece] = i;
            _scores[i] = vocab[i].Score;
            min = Math.Min(min, vocab[i].Score);
            _maxPieceLength = Math.Max(_maxPieceLength, vocab[i].Piece.EnumerateRunes().Count());
        }

        _unkId = unkId;
        _unkScore = min - UnknownPenalty;
    }

    /// <summary>The id of the unknown piece (<c>$.model.unk_id</c>).</summary>
    public int UnknownId => _unkId;

    /// <summary>Tokens of the code points [start, end) of <paramref name="text"/>.</summary>
    public void Encode(AlignedText text, int start, int end, List<EncodedPiece> output)
    {
        int size = end - start;
        if (size == 0)
        {
            return;
        }

        var score = new double[size + 1];
        var from = new int[size + 1];
        var id = new int[size + 1];
        Array.Fill(from, -1);
        string all = text.ToString(start, end);
        var charIndex = new int[size + 1];
        for (int k = 0, c = 0; k < size; k++)
        {
            charIndex[k] = c;
            c += text[start + k].CodePoint > 0xFFFF ? 2 : 1;
            charIndex[k + 1] = c;
        }

        for (int s = 0; s < size; s++)
        {
            if (s > 0 && from[s] < 0)
            {
                continue;
            }

            double here = score[s];
            bool single = false;
            int limit = Math.Min(size, s + _maxPieceLength);
            for (int e = s + 1; e <= limit; e++)
            {
                if (!_ids.TryGetValue(all[charIndex[s]..charIndex[e]], out int piece))
                {
                    continue;
                }

                double candidate = here + _scores[piece];
                if (from[e] < 0 || candidate > score[e])
                {
                    score[e] = candidate;
                    from[e] = s;
                    id[e] = piece;
                }

                single |= e == s + 1;
            }

            if (!single)
            {
                double candidate = here + _unkScore;
                if (from[s + 1] < 0 || candidate > score[s + 1])
                {
                    score[s + 1] = candidate;
                    from[s + 1] = s;
                    id[s + 1] = _unkId;
                }
            }
        }

        var reversed = new List<EncodedPiece>();
        int at = size;
        int unkEnd = -1;
        while (at > 0)
        {
            int s = from[at];
            if (id[at] == _unkId)
            {
                unkEnd = unkEnd < 0 ? at : unkEnd;
                if (s == 0 || id[s] != _unkId)
                {
                    string fused = all[charIndex[s]..charIndex[unkEnd]];
                    int fusedId = _ids.TryGetValue(fused, out int known) ? known : _unkId;
                    reversed.Add(new EncodedPiece(fusedId, fused, text[start + s].Start, text[start + unkEnd - 1].End));
                    unkEnd = -1;
                }
            }
            else
            {
                reversed.Add(new EncodedPiece(id[at], all[charIndex[s]..charIndex[at]], text[start + s].Start, text[start + at - 1].End));
            }

            at = s;
        }

        reversed.Reverse();
        output.AddRange(reversed);
    }
}
