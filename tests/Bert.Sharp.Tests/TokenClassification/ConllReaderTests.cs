using Bert.Sharp.Tests.TestSupport;
using Bert.Sharp.TokenClassification;

namespace Bert.Sharp.Tests.TokenClassification;

public class ConllReaderTests
{
    private static ConllCorpus Parse(string text, bool validate = true) => ConllReader.Parse(new StringReader(text), "mem.conll", validate);

    [Fact]
    public void Reads_tab_separated_sentences_and_skips_comments_before_a_sentence()
    {
        ConllCorpus corpus = Parse("# id = 1\n# text = I love Jabra .\nI\tO\nlove\tO\nJabra\tB-BRAND\n.\tO\n\n\n# id = 2\nNew\tB-LOC\nYork\tI-LOC\n");
        Assert.Equal(2, corpus.Sentences.Count);
        Assert.Equal(["I", "love", "Jabra", "."], corpus.Sentences[0].Tokens);
        Assert.Equal(["O", "O", "B-BRAND", "O"], corpus.Sentences[0].Tags);
        Assert.Equal(["New", "York"], corpus.Sentences[1].Tokens);
        Assert.Equal(["B-LOC", "I-LOC"], corpus.Sentences[1].Tags);
        Assert.Empty(corpus.Warnings);
    }

    [Fact]
    public void Reads_space_separated_and_conll2003_four_column_files_with_docstart()
    {
        const string conll2003 = "-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP B-MISC\n\nPeter NNP B-NP B-PER\r\nBlackburn NNP I-NP I-PER\r\n\r\n-DOCSTART- -X- -X- O\nx NN B-NP O\n";
        ConllCorpus corpus = Parse(conll2003);
        Assert.Equal(3, corpus.Sentences.Count);
        Assert.Equal(["EU", "rejects", "German"], corpus.Sentences[0].Tokens);
        Assert.Equal(["B-ORG", "O", "B-MISC"], corpus.Sentences[0].Tags);
        Assert.Equal(["B-PER", "I-PER"], corpus.Sentences[1].Tags);
        Assert.Equal(["x"], corpus.Sentences[2].Tokens);

        ConllCorpus spaced = Parse("Motorola  B-BRAND\nRazr B-PRODUCT  \n");
        Assert.Equal(["Motorola", "Razr"], spaced.Sentences[0].Tokens);
        Assert.Equal(["B-BRAND", "B-PRODUCT"], spaced.Sentences[0].Tags);
    }

    [Fact]
    public void A_hash_line_inside_a_sentence_is_the_token_hash()
    {
        ConllCorpus corpus = Parse("# a comment\nnumber O\n# O\n1 O\n");
        Assert.Equal(["number", "#", "1"], corpus.Sentences[0].Tokens);
        Assert.Equal(["#", "1"], Parse("#\tO\n1\tO\n").Sentences[0].Tokens);
    }

    [Fact]
    public void A_line_with_one_column_names_the_source_and_line()
    {
        var e = Assert.Throws<InvalidDataException>(() => Parse("a\tO\nb\tO\n\nlonely\n"));
        Assert.Contains("mem.conll:4", e.Message, StringComparison.Ordinal);
        Assert.Contains("'lonely'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_tag_that_is_not_iob2_is_rejected_only_with_validation()
    {
        var e = Assert.Throws<InvalidDataException>(() => Parse("a\tO\nb\tX-FOO\n"));
        Assert.Contains("mem.conll:2", e.Message, StringComparison.Ordinal);
        Assert.Contains("'X-FOO'", e.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => Parse("a\tB-\n"));
        Assert.Throws<InvalidDataException>(() => Parse("a\tS-PER\n"));
        ConllCorpus pos = Parse("The DT\ndog NN\n", validate: false);
        Assert.Equal(["DT", "NN"], pos.Sentences[0].Tags);
        Assert.Empty(pos.Warnings);
    }

    [Fact]
    public void An_inside_tag_that_starts_an_entity_is_accepted_and_recorded()
    {
        ConllCorpus corpus = Parse("a\tI-PER\nb\tI-PER\nc\tO\nd\tI-LOC\n\ne\tB-LOC\nf\tI-PER\ng\tB-PER\nh\tI-PER\n\ni\tI-ORG\n");
        Assert.Equal(3, corpus.Sentences.Count);
        Assert.Equal(4, corpus.Warnings.Count);
        Assert.StartsWith("mem.conll:1:", corpus.Warnings[0], StringComparison.Ordinal);
        Assert.StartsWith("mem.conll:4:", corpus.Warnings[1], StringComparison.Ordinal);
        Assert.StartsWith("mem.conll:7:", corpus.Warnings[2], StringComparison.Ordinal);
        Assert.Contains("'I-PER' follows 'B-LOC'", corpus.Warnings[2], StringComparison.Ordinal);
        Assert.StartsWith("mem.conll:11:", corpus.Warnings[3], StringComparison.Ordinal);
    }

    [Fact]
    public void Reads_files_with_a_byte_order_mark_and_reports_missing_files()
    {
        string dir = TestTemp.NewDirectory("conll");
        string path = Path.Combine(dir, "bom.conll");
        File.WriteAllText(path, "Nokia\tB-BRAND\n", new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: true));
        Assert.Equal(["Nokia"], ConllReader.Read(path).Sentences[0].Tokens);
        File.WriteAllText(path, "ok\tO\nbad\tBRAND\n");
        Assert.Contains($"{path}:2", Assert.Throws<InvalidDataException>(() => ConllReader.Read(path)).Message, StringComparison.Ordinal);
        Assert.Throws<FileNotFoundException>(() => ConllReader.Read(Path.Combine(dir, "missing.conll")));
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public void Split_is_seeded_disjoint_and_complete()
    {
        TaggedSentence[] all = [.. Enumerable.Range(0, 101).Select(i => new TaggedSentence([$"w{i}"], ["O"]))];
        var (train, test) = ConllReader.Split(all, 0.2, seed: 7);
        Assert.Equal(20, test.Count);
        Assert.Equal(81, train.Count);
        Assert.Equal(all.Length, train.Concat(test).Distinct().Count());
        var (train2, test2) = ConllReader.Split(all, 0.2, seed: 7);
        Assert.Equal(train, train2);
        Assert.Equal(test, test2);
        var (_, other) = ConllReader.Split(all, 0.2, seed: 8);
        Assert.NotEqual(test, other);
        Assert.Throws<ArgumentOutOfRangeException>(() => ConllReader.Split(all, 1.0, 1));
    }

    [Fact]
    public void Distinct_tags_put_O_first_then_both_prefixes_per_type_in_order()
    {
        TaggedSentence[] sentences =
        [
            new(["a", "b", "c"], ["B-PER", "O", "B-LOC"]),
            new(["d", "e"], ["B-ORG", "I-ORG"]),
            new(["f"], ["I-MISC"]),
        ];
        Assert.Equal(["LOC", "MISC", "ORG", "PER"], ConllReader.DistinctEntityTypes(sentences));
        Assert.Equal(["O", "B-LOC", "I-LOC", "B-MISC", "I-MISC", "B-ORG", "I-ORG", "B-PER", "I-PER"], ConllReader.DistinctTags(sentences));
        Assert.Equal(["O", "B-X", "I-X", "E-X", "NN"], ConllReader.DistinctTags([new TaggedSentence(["a", "b", "c"], ["NN", "E-X", "B-X"])]));
    }

    [Fact]
    public void A_tagged_sentence_needs_one_tag_per_token()
    {
        Assert.Throws<ArgumentException>(() => new TaggedSentence(["a", "b"], ["O"]));
        Assert.Throws<ArgumentException>(() => new TaggedSentence(["a"], [""]));
        var (tokens, tags) = new TaggedSentence(["a"], ["O"]);
        Assert.Equal(["a"], tokens);
        Assert.Equal(["O"], tags);
    }
}
