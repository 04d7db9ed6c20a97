using Bert.Sharp.TokenClassification;

namespace Bert.Sharp.Tests.TokenClassification;

/// <summary>Examples from seqeval's README and docstrings, and hand-computed cases.</summary>
public class EntityMetricsTests
{
    private const double Tolerance = 1e-9;

    private static string[][] S(params string[] sentences) => [.. sentences.Select(s => s.Split(' '))];

    [Fact]
    public void Seqeval_readme_example_gives_f1_one_half()
    {
        string[][] yTrue = S("O O O B-MISC I-MISC I-MISC O", "B-PER I-PER O");
        string[][] yPred = S("O O B-MISC I-MISC I-MISC I-MISC O", "B-PER I-PER O");
        EntityMetricsReport report = EntityMetrics.Evaluate(yTrue, yPred);
        Assert.Equal(0.5, report.Micro.F1, Tolerance);
        Assert.Equal(0.5, report.Micro.Precision, Tolerance);
        Assert.Equal(0.5, report.Micro.Recall, Tolerance);
        Assert.Equal(["MISC", "PER"], report.PerType.Keys);
        Assert.Equal(new EntityScores(0, 0, 0, 1, 1, 0), report.PerType["MISC"]);
        Assert.Equal(new EntityScores(1, 1, 1, 1, 1, 1), report.PerType["PER"]);
        Assert.Equal(0.5, report.Macro.F1, Tolerance);
        Assert.Equal(0.5, report.Weighted.F1, Tolerance);
        Assert.Equal(2, report.Macro.Support);
        Assert.Equal(0.8, report.Accuracy, Tolerance);
    }

    [Fact]
    public void Seqeval_readme_strict_example_drops_an_entity_that_starts_with_I()
    {
        string[][] yTrue = S("B-NP I-NP O");
        string[][] yPred = S("I-NP I-NP O");
        Assert.Equal(new EntityScores(1, 1, 1, 1, 1, 1), EntityMetrics.Evaluate(yTrue, yPred).PerType["NP"]);
        Assert.Equal(new EntityScores(0, 0, 0, 1, 0, 0), EntityMetrics.Evaluate(yTrue, yPred, ChunkingMode.StrictIob2).PerType["NP"]);
    }

    [Fact]
    public void Get_entities_follows_seqeval_docstring_and_conlleval_chunking()
    {
        Assert.Equal([new EntitySpan("PER", 0, 2), new EntitySpan("LOC", 3, 4)], EntityMetrics.GetEntities(["B-PER", "I-PER", "O", "B-LOC"]));

        // Default mode: an I- after O, or after another type, starts a chunk; B- always starts one.
        string[] loose = ["I-PER", "I-PER", "O", "I-LOC", "B-LOC", "B-PER", "I-LOC"];
        Assert.Equal(
            [new EntitySpan("PER", 0, 2), new EntitySpan("LOC", 3, 4), new EntitySpan("LOC", 4, 5), new EntitySpan("PER", 5, 6), new EntitySpan("LOC", 6, 7)],
            EntityMetrics.GetEntities(loose));

        // Strict IOB2: only B-X I-X* runs.
        Assert.Equal([new EntitySpan("LOC", 4, 5), new EntitySpan("PER", 5, 6)], EntityMetrics.GetEntities(loose, ChunkingMode.StrictIob2));

        // Default mode also reads IOBES prefixes, as seqeval does.
        Assert.Equal([new EntitySpan("PER", 0, 1), new EntitySpan("LOC", 1, 3)], EntityMetrics.GetEntities(["S-PER", "B-LOC", "E-LOC", "O"]));

        // Types may contain '-': everything after the prefix's dash.
        Assert.Equal([new EntitySpan("DATE-TIME", 0, 2)], EntityMetrics.GetEntities(["B-DATE-TIME", "I-DATE-TIME"]));
        Assert.Equal([new EntitySpan("DATE-TIME", 0, 2)], EntityMetrics.GetEntities(["B-DATE-TIME", "I-DATE-TIME"], ChunkingMode.StrictIob2));
        Assert.Empty(EntityMetrics.GetEntities(["O", "O"]));
        Assert.Empty(EntityMetrics.GetEntities([]));
    }

    [Fact]
    public void Micro_macro_and_weighted_averages_differ_as_computed_by_hand()
    {
        string[][] yTrue = S("B-PER I-PER O B-LOC O B-ORG", "B-LOC O O");
        string[][] yPred = S("B-PER I-PER O B-LOC O O", "B-PER O B-ORG");
        EntityMetricsReport r = EntityMetrics.Evaluate(yTrue, yPred);
        Assert.Equal(new EntityScores(0.5, 0.5, 0.5, 4, 4, 2), r.Micro);
        Assert.Equal(["LOC", "ORG", "PER"], r.PerType.Keys);
        EntityScores loc = r.PerType["LOC"];
        Assert.Equal((1.0, 0.5, 2, 1, 1), (loc.Precision, loc.Recall, loc.Support, loc.Predicted, loc.Correct));
        Assert.Equal(2.0 / 3, loc.F1, Tolerance);
        Assert.Equal(new EntityScores(0, 0, 0, 1, 1, 0), r.PerType["ORG"]);
        Assert.Equal(0.5, r.PerType["PER"].Precision, Tolerance);
        Assert.Equal(1, r.PerType["PER"].Recall, Tolerance);
        Assert.Equal(2.0 / 3, r.PerType["PER"].F1, Tolerance);
        Assert.Equal(0.5, r.Macro.Precision, Tolerance);
        Assert.Equal(0.5, r.Macro.Recall, Tolerance);
        Assert.Equal(4.0 / 9, r.Macro.F1, Tolerance);
        Assert.Equal(0.625, r.Weighted.Precision, Tolerance);
        Assert.Equal(0.5, r.Weighted.Recall, Tolerance);
        Assert.Equal(0.5, r.Weighted.F1, Tolerance);
        Assert.Equal(6.0 / 9, r.Accuracy, Tolerance);
    }

    [Fact]
    public void Entities_never_cross_a_sentence_boundary()
    {
        string[][] tags = S("O B-PER", "I-PER O");
        EntityMetricsReport r = EntityMetrics.Evaluate(tags, tags);
        Assert.Equal(2, r.Micro.Support);
        Assert.Equal(1, r.Micro.F1);

        // A prediction that glues them is not possible; one that drops the second is half right.
        EntityMetricsReport half = EntityMetrics.Evaluate(tags, S("O B-PER", "O O"));
        Assert.Equal((1.0, 0.5, 2, 1, 1), (half.Micro.Precision, half.Micro.Recall, half.Micro.Support, half.Micro.Predicted, half.Micro.Correct));
        Assert.Equal(2.0 / 3, half.Micro.F1, Tolerance);
    }

    [Fact]
    public void No_entities_anywhere_scores_zero_without_dividing_by_zero()
    {
        EntityMetricsReport r = EntityMetrics.Evaluate(S("O O", "O"), S("O O", "O"));
        Assert.Empty(r.PerType);
        Assert.Equal(new EntityScores(0, 0, 0, 0, 0, 0), r.Micro);
        Assert.Equal(new EntityScores(0, 0, 0, 0, 0, 0), r.Macro);
        Assert.Equal(1, r.Accuracy);
        EntityMetricsReport spurious = EntityMetrics.Evaluate(S("O O"), S("B-PER O"));
        Assert.Equal(new EntityScores(0, 0, 0, 0, 1, 0), spurious.Micro);
        Assert.Equal(0, EntityMetrics.Evaluate([], []).Accuracy);
    }

    [Fact]
    public void Shape_mismatches_and_invalid_strict_tags_name_the_sentence()
    {
        var e = Assert.Throws<ArgumentException>(() => EntityMetrics.Evaluate(S("O O", "O O"), S("O O", "O")));
        Assert.Contains("Sentence 1", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => EntityMetrics.Evaluate(S("O"), S("O", "O")));
        var strict = Assert.Throws<ArgumentException>(() => EntityMetrics.Evaluate(S("O O", "B-PER E-PER"), S("O O", "O O"), ChunkingMode.StrictIob2));
        Assert.Contains("Sentence 1, tag 1", strict.Message, StringComparison.Ordinal);
        Assert.Contains("'E-PER'", strict.Message, StringComparison.Ordinal);
    }
}
