namespace Bert.Sharp.Onnx;

/// <summary>
/// Symmetric int8 quantization, <c>q = round(w / s)</c> clamped to [-127, 127] with <c>s = max|w| / 127</c> per group, so
/// zero stays exactly zero and no zero point is needed.
/// </summary>
internal static class Int8Quantizer
{
    /// <summary>Quantizes a row-major [rows, columns] matrix with one scale per column (per output feature of a MatMul weight).</summary>
    public static (sbyte[] Values, float[] Scales) PerColumn(float[] matrix, int rows, int columns)
    {
        var maxima = new float[columns];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                maxima[c] = Math.Max(maxima[c], Math.Abs(matrix[(r * columns) + c]));
            }
        }

        float[] scales = [.. maxima.Select(Scale)];
        var values = new sbyte[matrix.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                values[(r * columns) + c] = Quantize(matrix[(r * columns) + c], scales[c]);
            }
        }

        return (values, scales);
    }

    /// <summary>Quantizes a whole tensor with one scale.</summary>
    public static (sbyte[] Values, float[] Scales) PerTensor(float[] values)
    {
        float max = 0;
        foreach (float v in values)
        {
            max = Math.Max(max, Math.Abs(v));
        }

        float scale = Scale(max);
        var quantized = new sbyte[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            quantized[i] = Quantize(values[i], scale);
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

            scales[r] = Scale(max);
            for (int c = 0; c < columns; c++)
            {
                values[(r * columns) + c] = Quantize(row[c], scales[r]);
            }
        }

        return (values, scales);
    }

    // An all-zero group gets scale 1: its values quantize to 0 either way, and no division by zero happens at run time.
    private static float Scale(float maxAbs) => maxAbs > 0 && float.IsFinite(maxAbs) ? maxAbs / 127f : 1f;

    private static sbyte Quantize(float value, float scale) => (sbyte)Math.Clamp(MathF.Round(value / scale, MidpointRounding.ToEven), -127f, 127f);
}
