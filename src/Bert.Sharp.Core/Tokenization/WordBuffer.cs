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

    // The most chars ever stored for one word (from max_input_chars_per_word). The arrays grow towards it as words need,
    // so a file's limit of 10^8 no longer allocates gigabytes up front; they never shrink, so a thread reuses them.
    private int _capacity;
    private int _simpleBase = -1; // >= 0: char k of the word is the original char at _simpleBase + k.
    private int _combiningRun; // The trailing chars that are combining marks canonical ordering may still move.

    public int CodePoints { get; private set; }

    public int Start { get; private set; }

    public int End { get; private set; }

    public bool IsEmpty => CodePoints == 0;

    public ReadOnlySpan<char> Chars => _chars.AsSpan(0, _length);

    public int[] PieceIds { get; private set; } = [];

    public int[] PieceEnds { get; private set; } = [];

    public int CharStart(int index) => _simpleBase >= 0 ? _simpleBase + index : _charStarts[index];

    public int CharEnd(int index) => _simpleBase >= 0 ? _simpleBase + index + 1 : _charEnds[index];

    /// <summary>Empties the word and lets it store words of up to <paramref name="maxCharsPerWord"/> characters.</summary>
    public void Reset(int maxCharsPerWord)
    {
        // A word longer than the limit (in characters) is never split, so twice the limit in UTF-16 units plus one
        // normalized character is the most that is ever stored.
        _capacity = (int)Math.Min(Array.MaxLength, (2L * maxCharsPerWord) + RuneNormalizer.MaxOutputChars + 2);
        if (_chars.Length == 0)
        {
            Grow(Math.Min(_capacity, 256));
        }

        Reset();
    }

    /// <summary>Empties the word.</summary>
    public void Reset()
    {
        _length = 0;
        CodePoints = 0;
        _simpleBase = -1;
        _combiningRun = 0;
    }

    /// <summary>Ends the run of combining marks at the end of the word: a starter came (even one accent stripping
    /// removed), and canonical ordering never moves a mark across a starter.</summary>
    public void BreakCombiningRun() => _combiningRun = 0;

    /// <summary>
    /// Appends one combining mark (canonical combining class <paramref name="combiningClass"/> &gt; 0) and moves it
    /// before the marks of the current run that have a higher class, as canonical ordering (NFD) does.
    /// </summary>
    public void AppendCombining(ReadOnlySpan<char> mark, int combiningClass, int start, int end)
    {
        int before = _length;
        int run = _combiningRun;
        Append(mark, start, end);
        if (_length != before + mark.Length)
        {
            return; // Not stored (an over-long word, [UNK] anyway).
        }

        int runStart = before - run;
        int insertAt = before;
        while (insertAt > runStart)
        {
            int previous = insertAt - 1;
            if (char.IsLowSurrogate(_chars[previous]) && previous > runStart && char.IsHighSurrogate(_chars[previous - 1]))
            {
                previous--;
            }

            int codePoint = char.IsHighSurrogate(_chars[previous]) ? char.ConvertToUtf32(_chars[previous], _chars[previous + 1]) : _chars[previous];
            if (RuneNormalizer.CombiningClass(codePoint) <= combiningClass)
            {
                break;
            }

            insertAt = previous;
        }

        if (insertAt < before)
        {
            Rotate(_chars, insertAt, before, _length);
            Rotate(_charStarts, insertAt, before, _length);
            Rotate(_charEnds, insertAt, before, _length);
        }

        _combiningRun = run + mark.Length;
    }

    // Moves items[middle..end] before items[from..middle], keeping the order within each part.
    private static void Rotate<T>(T[] items, int from, int middle, int end)
    {
        items.AsSpan(from, middle - from).Reverse();
        items.AsSpan(middle, end - middle).Reverse();
        items.AsSpan(from, end - from).Reverse();
    }

    /// <summary>
    /// Starts an empty word with the run of ASCII letters and digits at <paramref name="text"/>[<paramref name="from"/>],
    /// taken one for one (lower-cased when asked); returns the index after the run. Scanning, case mapping and
    /// copying are one loop because most words are a few ASCII chars, too short for vectorized helpers to pay off.
    /// </summary>
    public int AppendAsciiRun(ReadOnlySpan<char> text, int from, int offset, bool lowercase)
    {
        byte[] map = BertCharacterClasses.AsciiWordChars(lowercase);
        ReadOnlySpan<char> source = text.Slice(from, Math.Min(_capacity, text.Length - from));
        char[] chars = _chars;
        int k = 0;
        while (k < source.Length)
        {
            int c = source[k];
            if ((uint)c >= (uint)map.Length || map[c] == 0)
            {
                break;
            }

            if ((uint)k >= (uint)chars.Length)
            {
                Grow(k + 1);
                chars = _chars;
            }

            chars[k] = (char)map[c];
            k++;
        }

        _length = k;
        int j = from + k;
        if (k == source.Length)
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

    public void Append(char c, int start, int end) => Append(new ReadOnlySpan<char>(in c), start, end);

    public void Append(ReadOnlySpan<char> chars, int start, int end)
    {
        _combiningRun = 0;
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
            if (_length + chars.Length > _chars.Length)
            {
                Grow(_length + chars.Length);
            }

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

    // Doubles the arrays (keeping what is stored) to hold at least needed chars, never past the capacity.
    private void Grow(int needed)
    {
        int size = (int)Math.Min(_capacity, Math.Max(needed, Math.Max(64L, 2L * _chars.Length)));
        Array.Resize(ref _chars, size);
        Array.Resize(ref _charStarts, size);
        Array.Resize(ref _charEnds, size);
        PieceIds = new int[size];
        PieceEnds = new int[size];
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
