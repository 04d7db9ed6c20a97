using Bert.Sharp.Tests.TestSupport;

namespace Bert.Sharp.Tests.Embeddings;

public class SemanticSearchTests
{
    [Fact]
    public void Top_k_equals_brute_force_cosine_for_several_queries()
    {
        var random = new Random(7);
        float[][] corpus = [.. Enumerable.Range(0, 50).Select(_ => Vector(random, 8))];
        float[][] queries = [.. Enumerable.Range(0, 4).Select(_ => Vector(random, 8))];
        IReadOnlyList<IReadOnlyList<SearchHit>> results = SemanticSearch.Search(queries, corpus, topK: 5);

        Assert.Equal(4, results.Count);
        for (int q = 0; q < queries.Length; q++)
        {
            int[] expected = [.. Enumerable.Range(0, corpus.Length).OrderByDescending(i => SemanticSearch.CosineSimilarity(queries[q], corpus[i])).Take(5)];
            Assert.Equal(expected, results[q].Select(h => h.CorpusId));
            Assert.All(results[q], h => Assert.Equal(SemanticSearch.CosineSimilarity(queries[q], corpus[h.CorpusId]), h.Score, 5));
            Assert.True(results[q].Zip(results[q].Skip(1)).All(p => p.First.Score >= p.Second.Score));
        }
    }

    [Fact]
    public void Ties_keep_corpus_order_and_k_beyond_the_corpus_returns_it_all()
    {
        float[][] corpus = [[1, 0], [0, 1], [2, 0], [1, 0]];
        IReadOnlyList<SearchHit> hits = SemanticSearch.Search([new float[] { 3, 0 }], corpus, topK: 10)[0];
        Assert.Equal(new[] { 0, 2, 3, 1 }, hits.Select(h => h.CorpusId));
        Assert.Equal(1f, hits[0].Score, 6);
        Assert.Equal(0f, hits[3].Score, 6);
    }

    [Fact]
    public void Scores_are_cosine_whatever_the_vector_lengths()
    {
        float[][] corpus = [[10, 0], [0, 0.001f], [-5, 0]];
        IReadOnlyList<SearchHit> hits = SemanticSearch.Search([new float[] { 0.1f, 0.1f }], corpus, topK: 3)[0];
        Assert.Equal(MathF.Sqrt(0.5f), hits[0].Score, 5);
        Assert.Equal(MathF.Sqrt(0.5f), hits[1].Score, 5);
        Assert.Equal(-MathF.Sqrt(0.5f), hits[2].Score, 5);
    }

    [Fact]
    public void An_empty_corpus_gives_no_hits_and_bad_arguments_are_refused()
    {
        Assert.Empty(SemanticSearch.Search([new float[] { 1, 0 }], [], topK: 3)[0]);
        var search = new SemanticSearch(new FakeEmbedder(), []);
        Assert.Equal(0, search.Count);
        Assert.Empty(search.Search("anything"));
        Assert.Throws<ArgumentOutOfRangeException>(() => search.Search("x", topK: 0));
        var mismatch = Assert.Throws<ArgumentException>(() => SemanticSearch.Search([new float[] { 1, 0 }], [new float[] { 1, 0, 0 }]));
        Assert.Contains("corpus vector #0", mismatch.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new SemanticSearch(new FakeEmbedder(), ["a", null!]));
    }

    [Fact]
    public void Texts_are_embedded_in_batches_and_hits_carry_the_text()
    {
        var embedder = new FakeEmbedder();
        string[] corpus = ["aaa", "b", "aab", "ccc", "abc"];
        var search = new SemanticSearch(embedder, corpus, batchSize: 2);
        Assert.Equal(new[] { 2, 2, 1 }, embedder.BatchSizes);
        IReadOnlyList<IReadOnlyList<SearchHit>> results = search.Search(["aaa", "ccc"], topK: 2);
        Assert.Equal("aaa", results[0][0].Text);
        Assert.Equal(1f, results[0][0].Score, 5);
        Assert.Equal("ccc", results[1][0].Text);
        Assert.All(search.CorpusEmbeddings, v => Assert.Equal(1.0, Math.Sqrt(v.Sum(x => (double)x * x)), 5));
    }

    [Fact]
    public void Works_over_a_tiny_random_SentenceEmbedder()
    {
        string dir = TestTemp.NewDirectory("search");
        try
        {
            BertTokenizer tokenizer = BertTokenizer.FromVocabulary(TestAssets.UncasedVocabPath);
            using (var encoder = new BertModel(TinyConfigs.Bert(vocab: tokenizer.VocabularySize), addPoolingLayer: false))
            {
                encoder.SavePretrained(dir, tokenizer);
            }

            using SentenceEmbedder embedder = SentenceEmbedder.FromPretrained(dir);
            string[] corpus = ["the cat sat", "a dog barked", "stock prices fell", "the cat sat"];
            var search = new SemanticSearch(embedder, corpus, batchSize: 3);
            IReadOnlyList<SearchHit> hits = search.Search("the cat sat", topK: 10);
            Assert.Equal(4, hits.Count);
            Assert.Equal(new[] { 0, 3 }, hits.Take(2).Select(h => h.CorpusId));   // identical texts tie: lower index first
            Assert.Equal(1f, hits[0].Score, 4);
            float[][] vectors = embedder.Embed(corpus);
            int[] brute = [.. Enumerable.Range(0, 4).OrderByDescending(i => SemanticSearch.CosineSimilarity(vectors[0], vectors[i])).ThenBy(i => i)];
            Assert.Equal(brute, hits.Select(h => h.CorpusId));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static float[] Vector(Random random, int n) => [.. Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1))];

    // Letter counts of a, b, c: equal texts give equal vectors.
    private sealed class FakeEmbedder : ISentenceEmbedder
    {
        public List<int> BatchSizes { get; } = [];

        public int Dimensions => 3;

        public float[][] Embed(IReadOnlyList<string> texts)
        {
            BatchSizes.Add(texts.Count);
            return [.. texts.Select(t => new float[] { t.Count(c => c == 'a'), t.Count(c => c == 'b'), t.Count(c => c == 'c') })];
        }
    }
}
