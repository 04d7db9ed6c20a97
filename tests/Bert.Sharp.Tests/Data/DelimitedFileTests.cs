using System.Globalization;
using System.Text;
using Bert.Sharp.Tests.TestSupport;

namespace Bert.Sharp.Tests.Data;

/// <summary>CSV and TSV files through <see cref="LabeledDataset.Load"/> (Sep underneath): quoting, encodings, line
/// ends, edge-case files, a large file, and errors that name the file, line and column.</summary>
public sealed class DelimitedFileTests
{
    private readonly string _directory = TestTemp.NewDirectory("csv");

    [Fact]
    public void Quoted_fields_keep_delimiters_line_breaks_and_escaped_quotes()
    {
        string path = Write("quoted.csv",
            "text,label\n" +
            "\"Great, really great\",pos\n" +
            "\"He said \"\"wow\"\"\",pos\n" +
            "\"two\nlines, one field\",neg\n" +
            "\"windows\r\nbreak\",neg\n" +
            "\"\"\"quoted start\",pos\n" +
            "\"closed\" then more,neg\n" +
            "plain \"inner\" quotes,pos\n" +
            "\"\",neg\n");
        IReadOnlyList<LabeledExample> rows = LabeledDataset.Load(path, new DataFileOptions { SkipEmptyTexts = true });
        Assert.Equal(
            ["Great, really great", "He said \"wow\"", "two\nlines, one field", "windows\nbreak", "\"quoted start", "closed then more", "plain \"inner\" quotes"],
            rows.Select(r => r.Text));
        Assert.Equal(["pos", "pos", "neg", "neg", "pos", "neg", "pos"], rows.Select(r => r.Label));
    }

    [Fact]
    public void Byte_order_mark_and_CRLF_line_ends_are_read_transparently()
    {
        string path = Path.Combine(_directory, "bom.csv");
        File.WriteAllText(path, "text,label\r\nfirst row,1\r\n\"quoted, row\",0\r\nlast row,1", new UTF8Encoding(encoderShouldEmitUTF8Identifier: true));
        Assert.Equal(0xEF, File.ReadAllBytes(path)[0]);
        IReadOnlyList<LabeledExample> rows = LabeledDataset.Load(path);
        Assert.Equal(["first row", "quoted, row", "last row"], rows.Select(r => r.Text));
        Assert.Equal(["1", "0", "1"], rows.Select(r => r.Label));

        string tsv = Path.Combine(_directory, "bom.tsv");
        File.WriteAllText(tsv, "text\tlabel\r\nα\t1\r\n", new UTF8Encoding(encoderShouldEmitUTF8Identifier: true));
        Assert.Equal("α", Assert.Single(LabeledDataset.Load(tsv)).Text);
    }

    [Fact]
    public void Header_only_empty_and_blank_line_files()
    {
        Assert.Empty(LabeledDataset.Load(Write("header.csv", "text,label\n")));
        Assert.Empty(LabeledDataset.Load(Write("header-no-newline.tsv", "text\tlabel")));
        Assert.Empty(LabeledDataset.Load(Write("empty.csv", "")));
        IReadOnlyList<LabeledExample> rows = LabeledDataset.Load(Write("blank.tsv", "\ntext\tlabel\n\nfine\t1\n\n\n#hashtag is data\t0\n"));
        Assert.Equal(["fine", "#hashtag is data"], rows.Select(r => r.Text));
    }

    [Fact]
    public void Tab_separated_files_take_quotes_literally()
    {
        IReadOnlyList<LabeledExample> rows = LabeledDataset.Load(Write("quotes.tsv", "text\tlabel\nhe said \"hi\"\t1\n\"quoted\"\t0\n5\" screen, \"bright\t1\n"));
        Assert.Equal(["he said \"hi\"", "\"quoted\"", "5\" screen, \"bright"], rows.Select(r => r.Text));
    }

    [Fact]
    public void Other_delimiters_and_headerless_columns()
    {
        IReadOnlyList<LabeledExample> rows = LabeledDataset.Load(Write("semi.txt", "1;\"a;b\";x\n0;c;y\n"), DataFileOptions.Headerless(textColumn: 1, labelColumn: 0) with { Delimiter = ';' });
        Assert.Equal(["a;b", "c"], rows.Select(r => r.Text));
        Assert.Equal(["1", "0"], rows.Select(r => r.Label));
        var e = Assert.Throws<ArgumentException>(() => LabeledDataset.Load(Write("hash.txt", "a#1\n"), DataFileOptions.Headerless() with { Delimiter = '#' }));
        Assert.Contains("'#'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_rows_are_named_by_file_and_line()
    {
        string unknown = Write("unknown.csv", "sentence,label,source\nx,1,web\n");
        var e = Assert.Throws<InvalidDataException>(() => LabeledDataset.Load(unknown));
        Assert.Equal($"{unknown}:1: column 'text' not found; the columns are 'sentence', 'label', 'source'.", e.Message);

        e = Assert.Throws<InvalidDataException>(() => LabeledDataset.Load(Write("short.tsv", "text\tlabel\nfine\t1\nno label here\n")));
        Assert.Contains("short.tsv:3: the row has 1 field(s) but column 1 is needed (delimiter '\\t')", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<InvalidDataException>(() => LabeledDataset.Load(Write("headerless.tsv", "fine\t1\n"), DataFileOptions.Headerless(textColumn: 0, labelColumn: 3)));
        Assert.Contains("column '3' not found; the columns are 0..1", e.Message, StringComparison.Ordinal);

        // Line numbers count blank lines and the lines inside quoted fields.
        e = Assert.Throws<InvalidDataException>(() => LabeledDataset.Load(Write("label.csv", "text,label\n\n\"two\nlines\",1\n\nno label,  \n")));
        Assert.Contains("label.csv:6: the label is empty", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<InvalidDataException>(() => LabeledDataset.Load(Write("unclosed.csv", "text,label\nfine,1\n\"never closed,0\nmore,1\n")));
        Assert.Contains("unclosed.csv:3: a quoted field is not closed before the end of the file", e.Message, StringComparison.Ordinal);

        // A stray quote would make Sep read the rest of the file as one field: an error, not silently merged rows.
        e = Assert.Throws<InvalidDataException>(() => LabeledDataset.Load(Write("stray.csv", "text,label\nfine,1\na 5\" screen,1\nmore,0\nrows,1\n")));
        Assert.Contains("stray.csv:3: column 0 has a '\"' inside an unquoted field", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<InvalidDataException>(() => LabeledDataset.Load(Write("after.csv", "text,label\n\"a\"b\"c,1\n")));
        Assert.Contains("after.csv:2: column 0 has a '\"' after its closing quote", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_of_100k_rows_reads_every_row_exactly()
    {
        const int count = 100_000;
        var file = new StringBuilder("id,text,label\r\n");
        for (int i = 0; i < count; i++)
        {
            file.Append(i.ToString(CultureInfo.InvariantCulture)).Append(',').Append(CsvField(ExpectedText(i))).Append(',').Append(i % 3).Append("\r\n");
        }

        string path = Write("large.csv", file.ToString());
        IReadOnlyList<LabeledExample> rows = LabeledDataset.Load(path);
        Assert.Equal(count, rows.Count);
        for (int i = 0; i < count; i++)
        {
            if (rows[i].Text != ExpectedText(i) || rows[i].Label != (i % 3).ToString(CultureInfo.InvariantCulture))
            {
                Assert.Fail($"row {i}: read [{rows[i].Label}] '{rows[i].Text}', expected [{i % 3}] '{ExpectedText(i)}'");
            }
        }

        // The same file with a bad last row: the line number accounts for every multi-line field before it.
        int lines = 1 + count + Enumerable.Range(0, count).Count(i => ExpectedText(i).Contains('\n', StringComparison.Ordinal));
        File.AppendAllText(path, "last,row\r\n");
        var e = Assert.Throws<InvalidDataException>(() => LabeledDataset.Load(path));
        Assert.Contains($"large.csv:{lines + 1}: the row has 2 field(s) but column 2 is needed", e.Message, StringComparison.Ordinal);
    }

    private static string ExpectedText(int i) => (i % 7) switch
    {
        0 => $"review {i}, with a comma",
        1 => $"review {i} said \"great\"",
        2 => $"review {i}\nover two lines",
        3 => $"review {i} ünïcödé ✓",
        _ => $"review {i}",
    };

    private static string CsvField(string text) =>
        text.AsSpan().IndexOfAny(",\"\n") >= 0 ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : text;

    private string Write(string name, string content)
    {
        string path = Path.Combine(_directory, name);
        File.WriteAllText(path, content);
        return path;
    }
}
