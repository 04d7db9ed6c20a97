namespace Bert.Sharp.Onnx;

/// <summary>
/// Symmetric int8 quantization, <c>q = round(w / s)</c> clamped to [-L, L] with <c>s = max|w| / L</c> per group, so
/// zero stays exactly zero and no zero point is needed. L is 127 (<see cref="FullRange"/>), or 63 (<see cref="ReducedRange"/>,
/// 7 bits) for weights that uint8 activations multiply on CPUs whose int8 products saturate at 16 bits.
/// </summary>
internal static class Int8Quantizer
{
    /// <summary>The largest magnitude of an 8-bit value.</summary>
    public const int FullRange = 127;

    /// <summary>
    /// The largest magnitude of a 7-bit value: a pair of uint8 × int8 products then sums to at most 2 × 255 × 63 = 32,130,
    /// inside the int16 that x86's <c>vpmaddubsw</c> (ONNX Runtime's u8·s8 kernel without VNNI) saturates at.
    /// </summary>
    public const int ReducedRange = 63;

    /// <summary>Quantizes a row-major [rows, columns] matrix with one scale per column (per output feature of a MatMul weight).</summary>
    public static (sbyte[] Values, float[] Scales) PerColumn(float[] matrix, int rows, int columns, int limit = FullRange)
    {
        var maxima = new float[columns];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                maxima[c] = Math.Max(maxima[c], Math.Abs(matrix[(r * columns) + c]));
            }
        }

        float[] scales = [.. maxima.Select(m => Scale(m, limit))];
        var values = new sbyte[matrix.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                values[(r * columns) + c] = Quantize(matrix[(r * columns) + c], scales[c], limit);
            }
        }

        return (values, scales);
    }

    /// <summary>Quantizes a whole tensor with one scale.</summary>
    public static (sbyte[] Values, float[] Scales) PerTensor(float[] values, int limit = FullRange)
    {
        float max = 0;
        foreach (float v in values)
        {
            max = Math.Max(max, Math.Abs(v));
        }

        float scale = Scale(max, limit);
        var quantized = new sbyte[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            quantized[i] = Quantize(values[i], scale, limit);
        }

        return (quantized, [scale]);
    }

    /// <summary>Quantizes a row-major [rows, columns] matrix with one scale per row (per embedding vector).</summary>
    public static (sbyte[] Values, float[] Scales) PerRow(float[] matrix, int rows, int columns)
    {
        var scales = new float[rows];
        var values = new sbyte[matrix.Length];
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = matrix.AsSpan(r * columns, columns);
            float max = 0;
            foreach (float v in row)
            {
                max = Math.Max(max, Math.Abs(v));
            }

            scales[r] = Scale(max, FullRange);
            for (int c = 0; c < columns; c++)
            {
                values[(r * columns) + c] = Quantize(row[c], scales[r], FullRange);
            }
        }

        return (values, scales);
    }

    /// <summary>
    /// Quantizes a row-major [rows, width] matrix (a linear weight as [out, in]) in blocks of <paramref name="block"/>
    /// numbers along each row, one scale per block, stored as uint8 around the zero point 128 as ONNX Runtime's
    /// <c>MatMulNBits</c> reads 8-bit weights: [rows, ⌈width / block⌉, block], the last block of a row padded with 128 (zero).
    /// </summary>
    public static (byte[] Values, float[] Scales) Blocks(float[] matrix, int rows, int width, int block)
    {
        // Each block is a row of PerRow's: the matrix is [rows · blocks, block] once a row's last block is padded with zeros,
        // which take no part in the block's scale and quantize to 0.
        int blocks = (width + block - 1) / block;
        float[] padded = matrix;
        if (width % block != 0)
        {
            padded = new float[rows * blocks * block];
            for (int r = 0; r < rows; r++)
            {
                matrix.AsSpan(r * width, width).CopyTo(padded.AsSpan(r * blocks * block));
            }
        }

        (sbyte[] values, float[] scales) = PerRow(padded, rows * blocks, block);
        return ([.. values.Select(v => (byte)(v + BlockZeroPoint))], scales);
    }

    /// <summary>
    /// Input numbers of a weight row that share one scale in <see cref="OnnxInt8Format.Blockwise"/>: 32 moved the sentiment
    /// model's probabilities by at most 0.028 against 0.046 for 64 and 0.056 for 128 (docs/performance.md), for 1/8 byte of scale per weight.
    /// </summary>
    public const int WeightBlock = 32;

    /// <summary>The zero point of <see cref="Blocks"/>' uint8 values (MatMulNBits' default for 8 bits): the int8 values shifted.</summary>
    public const int BlockZeroPoint = 128;

    // An all-zero group gets scale 1: its values quantize to 0 either way, and no division by zero happens at run time.
    private static float Scale(float maxAbs, int limit) => maxAbs > 0 && float.IsFinite(maxAbs) ? maxAbs / limit : 1f;

    private static sbyte Quantize(float value, float scale, int limit) => (sbyte)Math.Clamp(MathF.Round(value / scale, MidpointRounding.ToEven), -limit, limit);
}
