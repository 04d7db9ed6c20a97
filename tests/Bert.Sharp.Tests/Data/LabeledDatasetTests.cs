using Bert.Sharp.Tests.TestSupport;

namespace Bert.Sharp.Tests.Data;

public class LabeledDatasetTests
{
    [Fact]
    public void Reads_the_headerless_amazon_sentences()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "samples", "data", "amazon_cells_labelled.txt");
        IReadOnlyList<LabeledExample> all = LabeledDataset.Load(path, DataFileOptions.Headerless());
        Assert.Equal(1000, all.Count);
        Assert.Equal(["0", "1"], LabeledDataset.DistinctLabels(all));
        Assert.Equal(500, all.Count(e => e.Label == "1"));
        var (train, test) = LabeledDataset.Split(all, 0.2, seed: 42);
        Assert.Equal(800, train.Count);
        Assert.Equal(100, test.Count(e => e.Label == "1"));
        var (train2, _) = LabeledDataset.Split(all, 0.2, seed: 42);
        Assert.Equal(train.Select(e => e.Text), train2.Select(e => e.Text));
        var trainTexts = train.Select(e => e.Text).ToHashSet();
        Assert.DoesNotContain(test, e => trainTexts.Contains(e.Text) && all.Count(x => x.Text == e.Text) == 1);
    }

    [Fact]
    public void Reads_quoted_csv_with_a_header_and_text_pairs()
    {
        string dir = TestTemp.NewDirectory("data");
        string path = Path.Combine(dir, "pairs.csv");
        File.WriteAllText(path, "id,premise,hypothesis,label\n1,\"A man, sleeping\",\"He \"\"rests\"\"\",entailment\n2,\"two\nlines\",x,contradiction\n");
        var rows = LabeledDataset.Load(path, new DataFileOptions { TextColumn = "premise", TextPairColumn = "hypothesis" });
        Assert.Equal(2, rows.Count);
        Assert.Equal("A man, sleeping", rows[0].Text);
        Assert.Equal("He \"rests\"", rows[0].TextPair);
        Assert.Equal("two\nlines", rows[1].Text);
        Assert.Equal("contradiction", rows[1].Label);
    }

    [Fact]
    public void Reads_json_lines_with_numeric_multi_label_and_regression_targets()
    {
        string dir = TestTemp.NewDirectory("data");
        string path = Path.Combine(dir, "a.jsonl");
        File.WriteAllText(path, "{\"text\":\"good\",\"label\":1}\n\n{\"text\":\"bad\",\"label\":\"0\"}\n");
        Assert.Equal(["1", "0"], LabeledDataset.Load(path).Select(e => e.Label));
        File.WriteAllText(path, "{\"text\":\"t\",\"label\":[\"a\",\"b\"]}\n");
        Assert.Equal(["a", "b"], LabeledDataset.Load(path, new DataFileOptions { LabelKind = ProblemType.MultiLabelClassification })[0].Labels);
        File.WriteAllText(path, "{\"text\":\"t\",\"label\":2.5}\n");
        Assert.Equal(2.5f, LabeledDataset.Load(path, new DataFileOptions { LabelKind = ProblemType.Regression })[0].Value);
    }

    [Fact]
    public void Errors_name_the_file_and_line()
    {
        string dir = TestTemp.NewDirectory("data");
        string tsv = Path.Combine(dir, "bad.tsv");
        File.WriteAllText(tsv, "text\tlabel\nfine\t1\n\t0\n");
        var e = Assert.Throws<InvalidDataException>(() => LabeledDataset.Load(tsv));
        Assert.Contains($"{tsv}:3", e.Message, StringComparison.Ordinal);
        Assert.Single(LabeledDataset.Load(tsv, new DataFileOptions { SkipEmptyTexts = true }));
        File.WriteAllText(tsv, "sentence\tlabel\nx\t1\n");
        Assert.Contains("'text' not found", Assert.Throws<InvalidDataException>(() => LabeledDataset.Load(tsv)).Message, StringComparison.Ordinal);
        string jsonl = Path.Combine(dir, "bad.jsonl");
        File.WriteAllText(jsonl, "{\"text\":\"a\",\"label\":1}\n{oops\n");
        Assert.Contains(":2:", Assert.Throws<InvalidDataException>(() => LabeledDataset.Load(jsonl)).Message, StringComparison.Ordinal);
        File.WriteAllText(jsonl, "{\"text\":\"a\",\"label\":\"high\"}\n");
        Assert.Contains("not a finite number", Assert.Throws<InvalidDataException>(() => LabeledDataset.Load(jsonl, new DataFileOptions { LabelKind = ProblemType.Regression })).Message, StringComparison.Ordinal);
        Assert.Throws<FileNotFoundException>(() => LabeledDataset.Load(Path.Combine(dir, "missing.tsv")));
    }
}
