using static TorchSharp.torch;

namespace Bert.Sharp.Attention;

/// <summary>The sizes every (sequence, head) of one attention call shares.</summary>
internal readonly struct HeadShape(long sequences, long headsPerSequence, int queries, int keys, int width, int valueWidth)
{
    public long HeadsPerSequence { get; } = headsPerSequence;

    /// <summary>Sequences × heads: the units of work.</summary>
    public long Heads { get; } = sequences * headsPerSequence;

    public int Queries { get; } = queries;

    public int Keys { get; } = keys;

    public int Width { get; } = width;

    public int ValueWidth { get; } = valueWidth;

    public float Scale { get; } = (float)(1.0 / Math.Sqrt(width));

    /// <summary>Elements of the whole [batch, heads, query, key] map (the dropout mask's extent).</summary>
    public long MapElements => Heads * Queries * Keys;
}

/// <summary>
/// Where one operand's heads lie in native memory: head h of sequence s starts at s · SequenceStride + h · HeadStride
/// elements from the base, and its rows are RowStride elements apart (what MKL takes as the leading dimension).
/// </summary>
internal readonly struct HeadGeometry(long sequenceStride, long headStride, int rowStride)
{
    public long SequenceStride { get; } = sequenceStride;

    public long HeadStride { get; } = headStride;

    public int RowStride { get; } = rowStride;

    /// <summary>[batch, heads, rows, width], contiguous.</summary>
    public static HeadGeometry HeadMajor(long heads, int rows, int width) => new(heads * rows * width, (long)rows * width, width);

    /// <summary>[batch, rows, …, heads · width, …]: one head's rows are slices of rows <paramref name="rowWidth"/> wide.</summary>
    public static HeadGeometry RowMajor(int rows, int rowWidth, int width) => new((long)rows * rowWidth, width, rowWidth);
}

/// <summary>One operand bound to its memory.</summary>
internal readonly unsafe struct HeadOperand(float* data, HeadGeometry geometry, long headsPerSequence)
{
    public int RowStride => geometry.RowStride;

    /// <summary>The first element of head <paramref name="head"/> (sequences × heads numbering).</summary>
    public float* Head(long head) =>
        data + ((head / headsPerSequence) * geometry.SequenceStride) + ((head % headsPerSequence) * geometry.HeadStride);
}

/// <summary>Query, key and value (or their gradients) bound to memory, with the context's geometry.</summary>
internal readonly unsafe struct HeadOperands(HeadShape shape, HeadOperand query, HeadOperand key, HeadOperand value, HeadGeometry context)
{
    public HeadShape Shape { get; } = shape;

    public HeadOperand Query { get; } = query;

    public HeadOperand Key { get; } = key;

    public HeadOperand Value { get; } = value;

    /// <summary>The context (or its gradient) at <paramref name="data"/>: always [batch, query, heads · value width].</summary>
    public HeadOperand Context(float* data) => new(data, context, Shape.HeadsPerSequence);
}

/// <summary>
/// How the heads of one attention call lie in memory: as three [batch, heads, length, d] tensors, or packed in the fused
/// projection [batch, sequence, 3 · heads · d] a linear layer returns (queries, keys, values, each heads × d wide). The
/// context is [batch, query, heads · value width] either way, which is what merging the heads back gives.
/// </summary>
internal readonly unsafe struct HeadLayout
{
    private readonly HeadGeometry query, key, value, context;
    private readonly long keyOffset, valueOffset;

    private HeadLayout(HeadShape shape, HeadGeometry query, HeadGeometry key, HeadGeometry value, long keyOffset, long valueOffset)
    {
        Shape = shape;
        this.query = query;
        this.key = key;
        this.value = value;
        this.keyOffset = keyOffset;
        this.valueOffset = valueOffset;
        context = HeadGeometry.RowMajor(shape.Queries, (int)(shape.HeadsPerSequence * shape.ValueWidth), shape.ValueWidth);
    }

    public HeadShape Shape { get; }

    /// <summary>Three contiguous [batch, heads, length, d] tensors.</summary>
    public static HeadLayout Separate(Tensor query, Tensor key, Tensor value)
    {
        long heads = query.shape[1];
        var shape = new HeadShape(query.shape[0], heads, (int)query.shape[2], (int)key.shape[2], (int)query.shape[3], (int)value.shape[3]);
        return new HeadLayout(
            shape,
            HeadGeometry.HeadMajor(heads, shape.Queries, shape.Width),
            HeadGeometry.HeadMajor(heads, shape.Keys, shape.Width),
            HeadGeometry.HeadMajor(heads, shape.Keys, shape.ValueWidth),
            0,
            0);
    }

    /// <summary>The contiguous fused projection [batch, sequence, 3 · <paramref name="heads"/> · d].</summary>
    public static HeadLayout Packed(Tensor projection, int heads)
    {
        int length = (int)projection.shape[1], rowWidth = (int)projection.shape[2], width = rowWidth / 3 / heads;
        var shape = new HeadShape(projection.shape[0], heads, length, length, width, width);
        HeadGeometry geometry = HeadGeometry.RowMajor(length, rowWidth, width);
        return new HeadLayout(shape, geometry, geometry, geometry, (long)heads * width, 2L * heads * width);
    }

    /// <summary>The three operands in three tensors laid out as <see cref="Separate"/> says.</summary>
    public HeadOperands With(float* queryData, float* keyData, float* valueData) => new(
        Shape,
        new HeadOperand(queryData, query, Shape.HeadsPerSequence),
        new HeadOperand(keyData, key, Shape.HeadsPerSequence),
        new HeadOperand(valueData, value, Shape.HeadsPerSequence),
        context);

    /// <summary>The three operands in one packed projection (or its gradient), as <see cref="Packed"/> says.</summary>
    public HeadOperands With(float* projection) => With(projection, projection + keyOffset, projection + valueOffset);
}
