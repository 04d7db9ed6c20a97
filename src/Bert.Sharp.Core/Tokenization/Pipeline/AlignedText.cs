using System.Text;

namespace Bert.Sharp.Tokenization;

/// <summary>
/// Text being normalized, one code point at a time, each remembering the UTF-16 range of the original text it comes
/// from (Hugging Face's <c>NormalizedString</c> alignments), so that tokens get offsets into the text passed in.
/// </summary>
internal sealed class AlignedText
{
    private readonly List<AlignedChar> _chars;

    private AlignedText(List<AlignedChar> chars) => _chars = chars;

    /// <summary>Number of code points.</summary>
    public int Count => _chars.Count;

    /// <summary>The code points with their alignments.</summary>
    public IReadOnlyList<AlignedChar> Chars => _chars;

    /// <summary>The code point at <paramref name="index"/>.</summary>
    public AlignedChar this[int index] => _chars[index];

    /// <summary><paramref name="text"/>[start, end) as code points aligned to themselves; a lone surrogate becomes
    /// U+FFFD (as the UTF-8 text the Rust library receives), still aligned to its one char.</summary>
    public static AlignedText FromOriginal(string text, int start, int end)
    {
        var chars = new List<AlignedChar>(end - start);
        for (int i = start; i < end;)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < end && char.IsLowSurrogate(text[i + 1]))
            {
                chars.Add(new AlignedChar(char.ConvertToUtf32(text[i], text[i + 1]), i, i + 2));
                i += 2;
            }
            else
            {
                chars.Add(new AlignedChar(char.IsSurrogate(text[i]) ? 0xFFFD : text[i], i, i + 1));
                i++;
            }
        }

        return new AlignedText(chars);
    }

    /// <summary>A new text from the code points [<paramref name="start"/>, <paramref name="end"/>).</summary>
    public AlignedText Slice(int start, int end) => new(_chars.GetRange(start, end - start));

    /// <summary>The code points as a string.</summary>
    public override string ToString() => ToString(0, _chars.Count);

    /// <summary>The code points [<paramref name="start"/>, <paramref name="end"/>) as a string.</summary>
    public string ToString(int start, int end)
    {
        var builder = new StringBuilder(end - start);
        for (int i = start; i < end; i++)
        {
            builder.Append(char.ConvertFromUtf32(_chars[i].CodePoint));
        }

        return builder.ToString();
    }

    /// <summary>Applies Hugging Face's <c>NormalizedString::transform</c>: each new code point comes with a change:
    /// 0 takes the alignment of the next original code point, 1 is an insertion aligned like the previous one, and a
    /// negative change also skips that many original code points after it. Original code points left over are removed.</summary>
    public void Transform(List<(int CodePoint, int Change)> transformations)
    {
        var result = new List<AlignedChar>(transformations.Count);
        int index = 0;
        foreach ((int codePoint, int change) in transformations)
        {
            AlignedChar alignment;
            if (change > 0)
            {
                alignment = index > 0 ? _chars[index - 1]
                    : _chars.Count > 0 ? new AlignedChar(0, _chars[0].Start, _chars[0].Start) : default;
            }
            else
            {
                alignment = index < _chars.Count ? _chars[index]
                    : _chars.Count > 0 ? new AlignedChar(0, _chars[^1].End, _chars[^1].End) : default;
                index++;
                index -= change;
            }

            result.Add(new AlignedChar(codePoint, alignment.Start, alignment.End));
        }

        _chars.Clear();
        _chars.AddRange(result);
    }

    /// <summary>Replaces every code point equal to <paramref name="from"/> by <paramref name="to"/> (same alignment).</summary>
    public void ReplaceChar(int from, int to)
    {
        for (int i = 0; i < _chars.Count; i++)
        {
            if (_chars[i].CodePoint == from)
            {
                _chars[i] = _chars[i] with { CodePoint = to };
            }
        }
    }

    /// <summary>Puts <paramref name="codePoint"/> in front, aligned to the empty range where the text starts.</summary>
    public void Prepend(int codePoint)
    {
        if (_chars.Count > 0)
        {
            _chars.Insert(0, new AlignedChar(codePoint, _chars[0].Start, _chars[0].Start));
        }
    }

    /// <summary>Removes <paramref name="count"/> code points from <paramref name="start"/>.</summary>
    public void RemoveRange(int start, int count) => _chars.RemoveRange(start, count);
}

/// <summary>One code point of an <see cref="AlignedText"/> and the original UTF-16 range [Start, End) it comes from.</summary>
internal readonly record struct AlignedChar(int CodePoint, int Start, int End);
