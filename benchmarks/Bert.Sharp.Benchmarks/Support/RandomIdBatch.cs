using System.Globalization;

namespace Bert.Sharp.Benchmarks.Support;

/// <summary>The synthetic input of the forward benchmarks: random BERT ids of a fixed shape, every row full length.</summary>
internal static class RandomIdBatch
{
    /// <summary>A shape written batch × tokens, <c>"32x128"</c>.</summary>
    public static (int Batch, int Length) ParseShape(string shape)
    {
        string[] parts = shape.Split('x');
        return (int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Random ids (seed 42) with [CLS] (101) first and [SEP] (102) last in each row, no padding; mask all ones, token types
    /// all zero; in the form <see cref="OrtSessions.Inputs"/> takes.
    /// </summary>
    public static (long[] Ids, long[] Mask, long[] Types, int Rows, int Columns) Create(int batch, int length)
    {
        var random = new Random(42);
        long[] ids = [.. Enumerable.Range(0, batch * length).Select(i => i % length == 0 ? 101L : i % length == length - 1 ? 102L : random.Next(1000, 30522))];
        return (ids, [.. Enumerable.Repeat(1L, batch * length)], new long[batch * length], batch, length);
    }
}
