using System.Text.Json.Nodes;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Families;

/// <summary>
/// What the family mirror tests share with tests/python/hf_mirror.py: weights spread wide enough that every term of the
/// forward matters, the JSON request the mirror reads, and its outputs read back as rows.
/// </summary>
internal static class MirrorRequests
{
    /// <summary>
    /// Every parameter redrawn from a private generator: matrices and biases N(0, 0.25), norm weights (<c>LayerNorm</c>,
    /// DistilBERT's <c>*_layer_norm</c>, ModernBERT's <c>*norm</c>) 1 + N(0, 0.25); RoBERTa's padding position row too
    /// (Hugging Face zeroes it only at initialisation; a checkpoint may hold anything). Returned in evaluation mode.
    /// </summary>
    public static T WideSpread<T>(T model, int seed)
        where T : nn.Module
    {
        using var noGrad = no_grad();
        using var generator = new Generator((ulong)seed, CPU);
        foreach ((string name, Parameter parameter) in model.named_parameters())
        {
            using Tensor drawn = randn(parameter.shape, generator: generator).mul_(0.25);
            parameter.copy_(name.EndsWith("norm.weight", StringComparison.OrdinalIgnoreCase) ? drawn.add_(1) : drawn);
        }

        model.eval();
        return model;
    }

    /// <summary>One case for the mirror: the saved folder, the task and a padded batch (token types all zero).</summary>
    public static JsonObject Request(string folder, string task, long[,] ids, long[,] mask) => new()
    {
        ["folder"] = folder,
        ["task"] = task,
        ["input_ids"] = ToJson(ids),
        ["attention_mask"] = ToJson(mask),
        ["token_type_ids"] = ToJson(new long[ids.GetLength(0), ids.GetLength(1)]),
    };

    /// <summary>The mirror's output (a vector, a matrix or a batch of matrices) as rows of its last axis.</summary>
    public static IEnumerable<float[]> Rows(JsonNode node) =>
        node is JsonArray array && array.Count > 0 && array[0] is JsonArray inner && inner.Count > 0 && inner[0] is JsonArray
            ? array.SelectMany(n => Rows(n!))
            : node is JsonArray rows && rows.Count > 0 && rows[0] is JsonArray
                ? rows.Select(r => r!.AsArray().Select(v => v!.GetValue<float>()).ToArray())
                : [[.. node.AsArray().Select(v => v!.GetValue<float>())]];

    /// <summary>A classifier's logits on a padded batch, one row per example (sequence) or per token (token classification).</summary>
    public static float[][] Logits(Func<Tensor, Tensor?, Tensor?, Tensor?, SequenceClassifierOutput> forward, long[,] ids, long[,] mask)
    {
        using var noGrad = no_grad();
        using Tensor input = tensor(ids);
        using Tensor attention = tensor(mask);
        using SequenceClassifierOutput output = forward(input, attention, null, null);
        long k = output.Logits.shape[^1];
        return [.. output.Logits.contiguous().data<float>().ToArray().Chunk((int)k)];
    }

    /// <summary>
    /// Asserts that <paramref name="actual"/> is within <paramref name="tolerance"/> of <paramref name="expected"/> on the
    /// rows <paramref name="compared"/> marks (a padding position's output means nothing), with no NaN, and that the
    /// outputs are large enough (above 0.1) for the comparison to mean something.
    /// </summary>
    public static void AssertClose(string what, float[][] expected, float[][] actual, bool[] compared, float tolerance = 1e-4f)
    {
        Xunit.Assert.Equal(expected.Length, actual.Length);
        float worst = 0, largest = 0;
        for (int r = 0; r < expected.Length; r++)
        {
            if (!compared[r])
            {
                continue;
            }

            for (int k = 0; k < expected[r].Length; k++)
            {
                Xunit.Assert.False(float.IsNaN(actual[r][k]), $"{what}: NaN at row {r}");
                worst = Math.Max(worst, Math.Abs(expected[r][k] - actual[r][k]));
                largest = Math.Max(largest, Math.Abs(expected[r][k]));
            }
        }

        Xunit.Assert.True(worst <= tolerance, $"{what}: max difference {worst}");
        Xunit.Assert.True(largest > 0.1f, $"{what}: outputs too small to compare ({largest})");
    }

    private static JsonArray ToJson(long[,] values)
    {
        var rows = new JsonArray();
        for (int r = 0; r < values.GetLength(0); r++)
        {
            var row = new JsonArray();
            for (int c = 0; c < values.GetLength(1); c++)
            {
                row.Add(values[r, c]);
            }

            rows.Add(row);
        }

        return rows;
    }
}
