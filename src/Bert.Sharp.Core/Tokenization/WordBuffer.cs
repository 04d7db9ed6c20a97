namespace Bert.Sharp.Tokenization;

/// <summary>
/// The word <see cref="BertTextEncoder"/> is building: its normalized chars and, for each, the range of the
/// original text it came from; plus scratch space for WordPiece. One per thread (<see cref="TokenizerScratch"/>).
/// </summary>
internal sealed class WordBuffer
{
    private char[] _chars = [];
    private int[] _charStarts = [];
    private int[] _charEnds = [];
    private int _length;
    private int _capacity;
    private int _simpleBase = -1; // >= 0: char k of the word is the original char at _simpleBase + k.

    public int CodePoints { get; private set; }

    public int Start { get; private set; }

    public int End { get; private set; }

    public bool IsEmpty => CodePoints == 0;

    public ReadOnlySpan<char> Chars => _chars.AsSpan(0, _length);

    public int[] PieceIds { get; private set; } = [];

    public int[] PieceEnds { get; private set; } = [];

    public int CharStart(int index) => _simpleBase >= 0 ? _simpleBase + index : _charStarts[index];

    public int CharEnd(int index) => _simpleBase >= 0 ? _simpleBase + index + 1 : _charEnds[index];

    /// <summary>Empties the word and makes room for words of up to <paramref name="maxCharsPerWord"/> characters.</summary>
    public void Reset(int maxCharsPerWord)
    {
        // A word longer than the limit (in characters) is never split, so twice the limit in UTF-16 units plus one
        // normalized character is the most that is ever stored.
        int capacity = (2 * maxCharsPerWord) + RuneNormalizer.MaxOutputChars + 2;
        if (capacity != _capacity)
        {
            _capacity = capacity;
            _chars = new char[capacity];
            _charStarts = new int[capacity];
            _charEnds = new int[capacity];
            PieceIds = new int[capacity];
            PieceEnds = new int[capacity];
        }

        Reset();
    }

    /// <summary>Empties the word.</summary>
    public void Reset()
    {
        _length = 0;
        CodePoints = 0;
        _simpleBase = -1;
    }

    /// <summary>
    /// Starts an empty word with the run of ASCII letters and digits at <paramref name="text"/>[<paramref name="from"/>],
    /// taken one for one (lower-cased when asked); returns the index after the run. Scanning, case mapping and
    /// copying are one loop because most words are a few ASCII chars, too short for vectorized helpers to pay off.
    /// </summary>
    public int AppendAsciiRun(ReadOnlySpan<char> text, int from, int offset, bool lowercase)
    {
        byte[] map = BertCharacterClasses.AsciiWordChars(lowercase);
        Span<char> chars = _chars.AsSpan(0, Math.Min(_chars.Length, text.Length - from));
        ReadOnlySpan<char> source = text.Slice(from, chars.Length);
        int k = 0;
        while (k < source.Length)
        {
            int c = source[k];
            if ((uint)c >= (uint)map.Length || map[c] == 0)
            {
                break;
            }

            chars[k] = (char)map[c];
            k++;
        }

        _length = k;
        int j = from + k;
        if (k == chars.Length)
        {
            // Past the storage limit: the word is [UNK] anyway, only its extent still counts.
            while (j < text.Length && text[j] < map.Length && map[text[j]] != 0)
            {
                j++;
            }
        }

        CodePoints = j - from;
        Start = offset + from;
        End = offset + j;
        _simpleBase = Start;
        return j;
    }

    private void MaterializeOffsets()
    {
        for (int k = 0; k < _length; k++)
        {
            _charStarts[k] = _simpleBase + k;
            _charEnds[k] = _simpleBase + k + 1;
        }

        _simpleBase = -1;
    }

    public void Append(char c, int start, int end)
    {
        if (_simpleBase >= 0)
        {
            MaterializeOffsets();
        }

        if (CodePoints == 0)
        {
            Start = start;
        }

        End = end;
        CodePoints++;
        if (_length < _capacity)
        {
            _chars[_length] = c;
            _charStarts[_length] = start;
            _charEnds[_length] = end;
            _length++;
        }
    }

    public void Append(ReadOnlySpan<char> chars, int start, int end)
    {
        if (_simpleBase >= 0)
        {
            MaterializeOffsets();
        }

        if (CodePoints == 0)
        {
            Start = start;
        }

        End = end;
        CodePoints++;
        if (_length + chars.Length <= _capacity)
        {
            for (int k = 0; k < chars.Length; k++)
            {
                _chars[_length] = chars[k];
                _charStarts[_length] = start;
                _charEnds[_length] = end;
                _length++;
            }
        }
        else
        {
            _length = _capacity; // Past the limit: the word is [UNK]; stop storing.
        }
    }

    /// <summary>Counts one more character of an over-long word without storing it.</summary>
    public void Extend(int end)
    {
        if (_simpleBase >= 0)
        {
            MaterializeOffsets();
        }

        End = end;
        CodePoints++;
    }
}
