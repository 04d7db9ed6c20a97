using Bert.Sharp.Tests.TestSupport;

namespace Bert.Sharp.Tests.Data;

/// <summary>
/// Data files that would otherwise be read differently from what they say (issue 21, row 8): a tab-separated field
/// whose quote a tab cuts, and bytes that are not UTF-8. Both are refused naming the file and line, never read with
/// shifted columns or replacement characters.
/// </summary>
public sealed class DataFileIntegrityTests
{
    private readonly string _directory = TestTemp.NewDirectory("data-integrity");

    [Fact]
    public void A_tab_separated_field_whose_quote_a_tab_cuts_is_refused_naming_the_line()
    {
        // Before: text '"quoted ', label ' text"' (a third class), and the real label in an ignored column.
        string path = Write("cut.tsv", "text\tlabel\nfine\t0\n\"quoted \t text\"\t1\n");

        var e = Assert.Throws<InvalidDataException>(() => LabeledDataset.Load(path));

        Assert.Contains($"{path}:3:", e.Message, StringComparison.Ordinal);
        Assert.Contains("column 0 opens a quote that a tab cuts", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Quotes_that_a_tab_does_not_cut_stay_literal_in_tab_separated_files()
    {
        string path = Write("ok.tsv", "text\tlabel\n\"quoted\"\t0\n\"\"\"\"\t1\n5\" screen, \"bright\t1\n");

        IReadOnlyList<LabeledExample> rows = LabeledDataset.Load(path);

        Assert.Equal(["\"quoted\"", "\"\"\"\"", "5\" screen, \"bright"], rows.Select(r => r.Text));
        Assert.Equal(["0", "1", "1"], rows.Select(r => r.Label));
    }

    [Theory]
    [InlineData("bad.tsv")]
    [InlineData("bad.csv")]
    [InlineData("bad.jsonl")]
    public void Invalid_utf8_is_refused_naming_file_line_and_byte(string name)
    {
        bool json = name.EndsWith(".jsonl", StringComparison.Ordinal);
        byte[] head = System.Text.Encoding.UTF8.GetBytes(json
            ? "{\"text\": \"fine\", \"label\": \"0\"}\n{\"text\": \"caf"
            : name.EndsWith(".csv", StringComparison.Ordinal) ? "text,label\nfine,0\ncaf" : "text\tlabel\nfine\t0\ncaf");
        byte[] tail = System.Text.Encoding.UTF8.GetBytes(json ? "\", \"label\": \"1\"}\n" : "\t1\n".Replace('\t', name.EndsWith(".csv", StringComparison.Ordinal) ? ',' : '\t'));
        string path = Path.Combine(_directory, name);
        File.WriteAllBytes(path, [.. head, 0xE9, .. tail]);   // "café" in Latin-1: 0xE9 alone is not UTF-8

        var e = Assert.Throws<InvalidDataException>(() => LabeledDataset.Load(path));

        Assert.Contains($"{path}:", e.Message, StringComparison.Ordinal);
        Assert.Contains($"invalid UTF-8 at byte {head.Length} (0xE9)", e.Message, StringComparison.Ordinal);
        Assert.Contains(json ? $"{path}:2:" : $"{path}:3:", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Valid_utf8_with_a_byte_order_mark_still_reads()
    {
        string path = Path.Combine(_directory, "bom.tsv");
        File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, .. System.Text.Encoding.UTF8.GetBytes("text\tlabel\ncafé\t1\n")]);

        Assert.Equal(["café"], LabeledDataset.Load(path).Select(r => r.Text));
    }

    private string Write(string name, string content)
    {
        string path = Path.Combine(_directory, name);
        File.WriteAllText(path, content);
        return path;
    }
}
