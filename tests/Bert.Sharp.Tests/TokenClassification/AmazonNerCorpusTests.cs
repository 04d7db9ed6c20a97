using System.Text.RegularExpressions;
using Bert.Sharp.Tests.TestSupport;
using Bert.Sharp.TokenClassification;

namespace Bert.Sharp.Tests.TokenClassification;

/// <summary>
/// The hand-annotated corpus in samples/NamedEntityRecognition/data is consistent with its source sentences, with
/// its master file and with the counts its README states.
/// </summary>
public partial class AmazonNerCorpusTests
{
    private static readonly string DataDir = RepositoryPaths.Combine("samples", "NamedEntityRecognition", "data");
    private static readonly Lazy<ConllCorpus> Corpus = new(() => ConllReader.Read(Path.Combine(DataDir, "amazon_ner.conll")));
    private static readonly Lazy<IReadOnlyList<LabeledExample>> Source = new(() =>
        LabeledDataset.Load(RepositoryPaths.Combine("samples", "data", "amazon_cells_labelled.txt"), DataFileOptions.Headerless()));

    [GeneratedRegex(@"\[([^\[\]|]+)\|(PRODUCT|BRAND|ORG|PERSON|LOC)\]")]
    private static partial Regex Markup();

    [GeneratedRegex(@"\s")]
    private static partial Regex Whitespace();

    [Fact]
    public void Every_source_sentence_is_there_in_order_with_its_characters()
    {
        IReadOnlyList<TaggedSentence> sentences = Corpus.Value.Sentences;
        Assert.Equal(1000, sentences.Count);
        Assert.Empty(Corpus.Value.Warnings);
        for (int i = 0; i < sentences.Count; i++)
        {
            Assert.Equal(Whitespace().Replace(Source.Value[i].Text, string.Empty), string.Concat(sentences[i].Tokens));
        }
    }

    [Fact]
    public void The_counts_match_the_readme()
    {
        IReadOnlyList<TaggedSentence> sentences = Corpus.Value.Sentences;
        Assert.Equal(11975, sentences.Sum(s => s.Tokens.Count));
        var entities = sentences.SelectMany(s => EntityMetrics.GetEntities(s.Tags, ChunkingMode.StrictIob2)).ToList();
        Assert.Equal(196, entities.Count);
        Assert.Equal(entities.Count, sentences.Sum(s => EntityMetrics.GetEntities(s.Tags).Count));
        var perType = entities.GroupBy(e => e.Type).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(75, perType["PRODUCT"]);
        Assert.Equal(71, perType["BRAND"]);
        Assert.Equal(42, perType["ORG"]);
        Assert.Equal(7, perType["LOC"]);
        Assert.Equal(1, perType["PERSON"]);
        Assert.Equal(146, sentences.Count(s => s.Tags.Any(t => t != "O")));
        Assert.Equal(
            ["O", "B-BRAND", "I-BRAND", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-PERSON", "I-PERSON", "B-PRODUCT", "I-PRODUCT"],
            ConllReader.DistinctTags(sentences));
    }

    [Fact]
    public void The_conll_file_carries_exactly_the_entities_of_the_hand_written_master()
    {
        string[] master = File.ReadAllLines(Path.Combine(DataDir, "amazon_ner.annotated.txt"));
        Assert.Equal(1000, master.Length);
        for (int i = 0; i < master.Length; i++)
        {
            Assert.Equal(Source.Value[i].Text, Markup().Replace(master[i], "$1"));
            string[] expected = [.. Markup().Matches(master[i]).Select(m => $"{m.Groups[2].Value}:{Whitespace().Replace(m.Groups[1].Value, string.Empty)}")];
            TaggedSentence sentence = Corpus.Value.Sentences[i];
            string[] actual = [.. EntityMetrics.GetEntities(sentence.Tags, ChunkingMode.StrictIob2)
                .Select(e => $"{e.Type}:{string.Concat(sentence.Tokens.Skip(e.Start).Take(e.End - e.Start))}")];
            Assert.True(expected.SequenceEqual(actual), $"sentence {i + 1}: master [{string.Join(", ", expected)}] but CoNLL [{string.Join(", ", actual)}]");
        }
    }
}
