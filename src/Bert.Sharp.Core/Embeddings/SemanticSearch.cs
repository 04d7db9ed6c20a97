using Bert.Sharp.Inference;

namespace Bert.Sharp;

/// <summary>
/// Semantic search over a corpus of texts, as sentence-transformers' <c>util.semantic_search</c>: the corpus is embedded
/// once (in batches), and each query gets its <c>topK</c> most similar entries by cosine similarity, best first.
/// </summary>
/// <remarks>
/// Works with any <see cref="ISentenceEmbedder"/> (<c>SentenceEmbedder</c>, <c>OnnxSentenceEmbedder</c>). Vectors are
/// L2-normalised here, so models that do not normalise give cosine scores too. Results are sorted by score, highest
/// first; equal scores keep corpus order (lower index first). A <c>topK</c> larger than the corpus returns the whole
/// corpus; an empty corpus returns no hits. Searching is as thread-safe as the embedder (both of Bert.Sharp's are).
/// </remarks>
public sealed class SemanticSearch
{
    private readonly ISentenceEmbedder embedder;
    private readonly IReadOnlyList<string> corpus;
    private readonly float[][] corpusVectors;

    /// <summary>Embeds <paramref name="corpus"/>, <paramref name="batchSize"/> texts per call to the embedder.</summary>
    /// <param name="embedder">The model; queries are embedded with the same one.</param>
    /// <param name="corpus">The texts to search; may be empty (every search then returns no hits).</param>
    /// <param name="batchSize">Texts per <see cref="ISentenceEmbedder.Embed"/> call while building. Default 128.</param>
    /// <exception cref="ArgumentException">A corpus text is null (the message gives its index).</exception>
    /// <exception cref="InvalidDataException">The embedder returned the wrong number of vectors or a vector of another length.</exception>
    public SemanticSearch(ISentenceEmbedder embedder, IReadOnlyList<string> corpus, int batchSize = 128)
    {
        ArgumentNullException.ThrowIfNull(embedder);
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        TextArguments.ThrowIfAnyNull(corpus);
        this.embedder = embedder;
        this.corpus = corpus;
        corpusVectors = new float[corpus.Count][];
        for (int start = 0; start < corpus.Count; start += batchSize)
        {
            int count = Math.Min(batchSize, corpus.Count - start);
            string[] batch = [.. Enumerable.Range(start, count).Select(i => corpus[i])];
            float[][] vectors = EmbedChecked(batch);
            for (int i = 0; i < count; i++)
            {
                corpusVectors[start + i] = Normalized(vectors[i]);
            }
        }
    }

    /// <summary>Entries in the corpus.</summary>
    public int Count => corpusVectors.Length;

    /// <summary>The corpus embeddings, L2-normalised, in corpus order (do not modify).</summary>
    public IReadOnlyList<float[]> CorpusEmbeddings => corpusVectors;

    /// <summary>The <paramref name="topK"/> corpus entries most similar to <paramref name="query"/>, best first.</summary>
    public IReadOnlyList<SearchHit> Search(string query, int topK = 10)
    {
        ArgumentNullException.ThrowIfNull(query);
        return Search([query], topK)[0];
    }

    /// <summary>Several queries at once (embedded in one call): for each query, its <paramref name="topK"/> best entries, best first.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="topK"/> is not positive.</exception>
    public IReadOnlyList<IReadOnlyList<SearchHit>> Search(IReadOnlyList<string> queries, int topK = 10)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(topK);
        TextArguments.ThrowIfAnyNull(queries);
        float[][] vectors = queries.Count == 0 ? [] : EmbedChecked(queries);
        return [.. vectors.Select(v => TopK(Normalized(v), corpusVectors, topK, corpus))];
    }

    /// <summary>
    /// sentence-transformers' <c>util.semantic_search</c> over vectors: for each query vector, the <paramref name="topK"/>
    /// corpus vectors of highest cosine similarity, best first (ties: lower index first). Vectors are normalised here.
    /// </summary>
    /// <exception cref="ArgumentException">A vector's length differs from the first query's (the message names which).</exception>
    public static IReadOnlyList<IReadOnlyList<SearchHit>> Search(IReadOnlyList<float[]> queryEmbeddings, IReadOnlyList<float[]> corpusEmbeddings, int topK = 10)
    {
        ArgumentNullException.ThrowIfNull(queryEmbeddings);
        ArgumentNullException.ThrowIfNull(corpusEmbeddings);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(topK);
        int dimensions = queryEmbeddings.Count > 0 ? queryEmbeddings[0]?.Length ?? 0 : corpusEmbeddings.Count > 0 ? corpusEmbeddings[0]?.Length ?? 0 : 0;
        CheckVectors(queryEmbeddings, dimensions, "query");
        CheckVectors(corpusEmbeddings, dimensions, "corpus");
        float[][] corpus = [.. corpusEmbeddings.Select(Normalized)];
        return [.. queryEmbeddings.Select(q => TopK(Normalized(q), corpus, topK, null))];
    }

    /// <summary>Cosine similarity of two vectors of the same length (0 when either is all zeros).</summary>
    public static float CosineSimilarity(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException($"The vectors have different lengths ({a.Length} and {b.Length}).", nameof(b));
        }

        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }

        return na == 0 || nb == 0 ? 0f : (float)(dot / (Math.Sqrt(na) * Math.Sqrt(nb)));
    }

    private float[][] EmbedChecked(IReadOnlyList<string> texts)
    {
        float[][] vectors = embedder.Embed(texts);
        if (vectors is null || vectors.Length != texts.Count)
        {
            throw new InvalidDataException($"The embedder returned {vectors?.Length ?? 0} vectors for {texts.Count} texts.");
        }

        for (int i = 0; i < vectors.Length; i++)
        {
            if (vectors[i] is null || vectors[i].Length != embedder.Dimensions)
            {
                throw new InvalidDataException($"The embedder returned a vector of length {vectors[i]?.Length ?? 0} for text #{i}; its Dimensions is {embedder.Dimensions}.");
            }
        }

        return vectors;
    }

    private static SearchHit[] TopK(float[] query, float[][] corpus, int topK, IReadOnlyList<string>? texts)
    {
        var scores = new float[corpus.Length];
        for (int i = 0; i < corpus.Length; i++)
        {
            double dot = 0;
            float[] c = corpus[i];
            for (int d = 0; d < query.Length; d++)
            {
                dot += (double)query[d] * c[d];
            }

            scores[i] = (float)dot;
        }

        int[] order = [.. Enumerable.Range(0, corpus.Length)];
        // Highest score first; equal scores by corpus index (a stable, deterministic order).
        Array.Sort(order, (x, y) => scores[x] != scores[y] ? scores[y].CompareTo(scores[x]) : x.CompareTo(y));
        return [.. order.Take(topK).Select(i => new SearchHit(i, scores[i], texts?[i]))];
    }

    private static float[] Normalized(float[] vector)
    {
        double norm = 0;
        foreach (float v in vector)
        {
            norm += (double)v * v;
        }

        if (norm == 0)
        {
            return (float[])vector.Clone();
        }

        float scale = (float)(1 / Math.Sqrt(norm));
        return [.. vector.Select(v => v * scale)];
    }

    private static void CheckVectors(IReadOnlyList<float[]> vectors, int dimensions, string what)
    {
        for (int i = 0; i < vectors.Count; i++)
        {
            if (vectors[i] is null || vectors[i].Length != dimensions)
            {
                throw new ArgumentException($"The {what} vector #{i} has length {vectors[i]?.Length ?? 0}, expected {dimensions}.");
            }
        }
    }
}
