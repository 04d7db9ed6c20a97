using System.Text;
using nietras.SeparatedValues;

namespace Bert.Sharp.Data;

/// <summary>
/// The records of a TSV or CSV file, parsed by Sep, with the checks a hand-edited file needs: each record's first
/// line number, RFC 4180 quotes (a field that opens with <c>"</c>, <c>""</c> for a quote, line breaks inside), and a
/// clear error instead of a silently merged row when a quote is stray or never closed.
/// </summary>
internal static class DelimitedRecords
{
    /// <summary>
    /// Yields every non-blank record of <paramref name="path"/>: the line it starts on (1-based) and its fields.
    /// With <paramref name="quoted"/> false (TSV) quotes are ordinary characters. The delimiter must be
    /// <see cref="IsSupported"/>.
    /// </summary>
    /// <exception cref="InvalidDataException">A quote is stray or not closed, a tab-separated field opens a quote that a
    /// tab cuts, or the file is not valid UTF-8; the message names file and line.</exception>
    public static IEnumerable<(int Line, string[] Fields)> Read(string path, char delimiter, bool quoted)
    {
        var separator = new Sep(delimiter);
        using var text = new StreamReader(path, StrictUtf8.Encoding, detectEncodingFromByteOrderMarks: true);
        using SepReader reader = Open(separator, text, quoted, path);
        while (MoveNext(reader, path))
        {
            (int line, string[]? fields) = Current(reader, path, delimiter, quoted);
            if (fields is not null)
            {
                yield return (line, fields);
            }
        }
    }

    // Sep reads its first buffer when it opens, so a bad byte near the start surfaces here.
    private static SepReader Open(Sep separator, StreamReader text, bool quoted, string path)
    {
        try
        {
            return separator.Reader(o => o with
            {
                HasHeader = false,
                DisableColCountCheck = true, // A short row gets our own message, naming the column it lacks.
                DisableQuotesParsing = !quoted,
                Unescape = false, // Unquoted here, so stray and unclosed quotes are caught rather than absorbed.
            }).From(text);
        }
        catch (DecoderFallbackException e)
        {
            throw StrictUtf8.Invalid(path, e);
        }
    }

    // Sep decodes ahead of the row it hands out; an invalid byte anywhere surfaces here, and the refusal locates it.
    private static bool MoveNext(SepReader reader, string path)
    {
        try
        {
            return reader.MoveNext();
        }
        catch (DecoderFallbackException e)
        {
            throw StrictUtf8.Invalid(path, e);
        }
    }

    /// <summary>The text to show for a delimiter in a message.</summary>
    public static string Describe(char delimiter) => delimiter == '\t' ? "\\t" : delimiter.ToString();

    /// <summary>Whether Sep can split fields at <paramref name="delimiter"/>: tab or a printable ASCII character other
    /// than <c>"</c> and <c>#</c>.</summary>
    public static bool IsSupported(char delimiter)
    {
        try
        {
            _ = new Sep(delimiter);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    // The current row as strings; null fields for a blank line. A method of its own because Sep's row is a ref struct,
    // which an iterator cannot hold across a yield.
    private static (int Line, string[]? Fields) Current(SepReader reader, string path, char delimiter, bool quoted)
    {
        SepReader.Row row = reader.Current;

        // Sep reports the first row's starting line as where it ended; the first row always starts on line 1.
        int line = row.RowIndex == 0 ? 1 : row.LineNumberFrom;
        if (row.ColCount == 1 && row[0].Span.IsEmpty)
        {
            return (line, null);
        }

        var fields = new string[row.ColCount];
        for (int i = 0; i < fields.Length; i++)
        {
            ReadOnlySpan<char> raw = row[i].Span;
            fields[i] = !quoted || raw.IndexOf('"') < 0 ? raw.ToString() : Unquote(raw, i, delimiter, path, line);
            if (!quoted && raw.Length > 0 && raw[0] == '"' && raw.Count('"') % 2 == 1)
            {
                // Tab-separated files take quotes literally ("quoted" stays "quoted"), but a field that opens a quote the
                // tab then cuts was meant as one quoted field holding a tab: reading it literally shifts every column
                // after it (the label becomes text, a new class appears), so it is refused.
                throw new InvalidDataException(
                    $"{path}:{line}: column {i} opens a quote that a tab cuts ({raw.ToString()}); tab-separated files read quotes " +
                    "literally and a field cannot hold a tab: remove the tab or the quote, or use a CSV file (RFC 4180 quoting).");
            }
        }

        return (line, fields);
    }

    // RFC 4180 with today's leniency: text after the closing quote is kept ("ab"c → abc), a quote inside an unquoted
    // field is literal as long as Sep did not take it as the start of a quoted section (which would swallow delimiters
    // and line breaks), and a line break inside quotes reads as "\n" whatever the file uses.
    private static string Unquote(ReadOnlySpan<char> raw, int column, char delimiter, string path, int line)
    {
        if (raw[0] != '"')
        {
            bool balanced = raw.Count('"') % 2 == 0;
            return balanced && raw.IndexOfAny(delimiter, '\n', '\r') < 0
                ? raw.ToString()
                : throw new InvalidDataException(
                    $"{path}:{line}: column {column} has a '\"' inside an unquoted field, which starts a quoted section; " +
                    $"quote the whole field and double the quotes inside it (\"5\"\" screen\"), or use a tab-separated file.");
        }

        var text = new StringBuilder(raw.Length);
        bool inQuotes = true;
        for (int i = 1; i < raw.Length; i++)
        {
            char c = raw[i];
            if (!inQuotes)
            {
                if (c == '"')
                {
                    throw new InvalidDataException($"{path}:{line}: column {column} has a '\"' after its closing quote; double quotes inside a quoted field (\"\"), delimiter '{Describe(delimiter)}'.");
                }

                text.Append(c);
            }
            else if (c == '"')
            {
                if (i + 1 < raw.Length && raw[i + 1] == '"')
                {
                    text.Append('"');
                    i++;
                }
                else
                {
                    inQuotes = false;
                }
            }
            else if (c == '\r')
            {
                text.Append('\n');
                if (i + 1 < raw.Length && raw[i + 1] == '\n')
                {
                    i++;
                }
            }
            else
            {
                text.Append(c);
            }
        }

        return inQuotes
            ? throw new InvalidDataException($"{path}:{line}: a quoted field is not closed before the end of the file.")
            : text.ToString();
    }
}
