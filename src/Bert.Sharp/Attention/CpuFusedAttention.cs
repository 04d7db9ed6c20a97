using System.Runtime.CompilerServices;
using Bert.Sharp.Modeling;
using Bert.Sharp.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Attention;

/// <summary>
/// Training attention with dropout (or without it, p = 0) on the CPU, one head at a time: for each (sequence, head) the scores, the masked
/// softmax, the dropout and the weighted sum run on one thread with the head's score map in cache, calling MKL's
/// product (<see cref="MklGemm"/>) directly; the backward does the same with the map's gradient. A custom autograd
/// function over query, key and value.
/// </summary>
/// <remarks>
/// Why: LibTorch's fused CPU attention takes no dropout, so training fell back to the eager chain, whose batched
/// products write and read the whole [batch, heads, query, key] map several times each way (32 × 12 × 128 × 128 floats
/// = 25 MB per layer at MiniLM's shapes) and dominate the attention's time. Here only the probabilities the backward
/// needs are written to memory (as the eager chain keeps them too); scores, dropped probabilities and their gradients
/// live and die in a per-thread buffer. The dropout mask is <see cref="AttentionDropoutMask"/>'s — the elements
/// <see cref="FastDropout"/> would drop for the same generator state — regenerated in the backward. Results equal the
/// eager chain's to float32 rounding. The default kernel uses it where <see cref="Supports"/> holds (Linux x64 with
/// LibTorch's MKL, float32), at every size: on LibTorch's own threads (<see cref="LibTorchThreadTeam"/>) it took 0.3–0.95 of
/// the eager chain's time from one sequence of 16 tokens to 8 of 512 (attention-dropout-ab, Zen 4); elsewhere the eager
/// chain runs.
/// </remarks>
internal sealed unsafe class CpuFusedAttention : autograd.SingleTensorFunction<CpuFusedAttention>
{
    // One head's score map must fit a per-thread buffer: 1 Mi floats (4 MB), e.g. 1,024 × 1,024 tokens.
    private const long MaxMapElements = 1 << 20;

    /// <inheritdoc />
    public override string Name => nameof(CpuFusedAttention);

    /// <summary>Whether <see cref="Apply"/> takes these inputs (otherwise use the eager chain).</summary>
    public static bool Supports(Tensor query, Tensor key, Tensor value, double dropoutProbability)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        return CanRun(dropoutProbability)
            && query.dim() == 4 && key.dim() == 4 && value.dim() == 4
            && IsCpuFloat(query) && IsCpuFloat(key) && IsCpuFloat(value)
            && key.shape[0] == query.shape[0] && value.shape[0] == query.shape[0]
            && key.shape[1] == query.shape[1] && value.shape[1] == query.shape[1]
            && key.shape[3] == query.shape[3] && value.shape[2] == key.shape[2]
            && query.shape[2] > 0 && key.shape[2] > 0 && query.shape[3] > 0 && value.shape[3] > 0
            && query.shape[2] * key.shape[2] <= MaxMapElements;
    }

    /// <summary>
    /// dropout(softmax(query · keyᵀ / √d with padded keys filled with the lowest float), p) · value, with gradients for all
    /// three; [batch, heads, query, value width].
    /// </summary>
    /// <param name="query">[batch, heads, query, d] float32 on the CPU.</param>
    /// <param name="key">[batch, heads, key, d].</param>
    /// <param name="value">[batch, heads, key, value width].</param>
    /// <param name="keyPaddingMask">[batch, key], true where a key may be attended to; <c>null</c> for none padded.</param>
    /// <param name="dropoutProbability">The probability of dropping a probability, in [0, 1); at 0 nothing is dropped and nothing is drawn from the generator.</param>
    /// <exception cref="ArgumentException">The inputs are of a kind <see cref="Supports"/> refuses, or the mask's shape is wrong.</exception>
    public static Tensor Apply(Tensor query, Tensor key, Tensor value, Tensor? keyPaddingMask, double dropoutProbability)
    {
        if (!Supports(query, key, value, dropoutProbability))
        {
            throw new ArgumentException($"CpuFusedAttention takes 4-D float32 CPU query [{string.Join(", ", query.shape)}], key [{string.Join(", ", key.shape)}] and value [{string.Join(", ", value.shape)}] of matching shapes, p in [0, 1) (got {dropoutProbability}), and MKL ({MklGemm.Status}).", nameof(query));
        }

        var mask = AttentionDropoutMask.Create(keyPaddingMask, query.shape[0], key.shape[2], dropoutProbability);
        return AutogradFunctionScope.Apply(() => apply(query, key, value, mask));
    }

    /// <summary>
    /// The same attention over the fused Q/K/V projection as a linear layer returns it: <paramref name="projection"/>
    /// [batch, sequence, 3 · heads · d] (queries, then keys, then values, each heads × d) to the merged context
    /// [batch, sequence, heads · d], with the projection's gradient. The kernel reads each head where it lies and writes
    /// the context and the gradient where they belong, so nothing is copied to split the heads out or to merge them back,
    /// and the projection's gradient is one tensor rather than three that autograd would add up.
    /// </summary>
    /// <exception cref="ArgumentException">The projection is not such a float32 CPU tensor, or the mask's shape is wrong.</exception>
    public static Tensor ApplyPacked(Tensor projection, int heads, Tensor? keyPaddingMask, double dropoutProbability)
    {
        if (!SupportsPacked(projection, heads, dropoutProbability))
        {
            throw new ArgumentException($"CpuFusedAttention takes a 3-D float32 CPU projection [batch, sequence, 3 · {heads} · d] (got [{string.Join(", ", projection.shape)}] {projection.dtype} on {projection.device}), p in [0, 1) (got {dropoutProbability}), and MKL ({MklGemm.Status}).", nameof(projection));
        }

        var mask = AttentionDropoutMask.Create(keyPaddingMask, projection.shape[0], projection.shape[1], dropoutProbability);
        return AutogradFunctionScope.Apply(() => apply(projection, mask, heads));
    }

    /// <summary>Whether <see cref="ApplyPacked"/> takes this projection.</summary>
    public static bool SupportsPacked(Tensor projection, int heads, double dropoutProbability)
    {
        ArgumentNullException.ThrowIfNull(projection);
        return CanRun(dropoutProbability) && heads > 0
            && projection.dim() == 3 && IsCpuFloat(projection)
            && projection.shape[0] > 0 && projection.shape[1] > 0 && projection.shape[2] > 0 && projection.shape[2] % (3L * heads) == 0
            && projection.shape[1] * projection.shape[1] <= MaxMapElements;
    }

    /// <inheritdoc />
    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ArgumentNullException.ThrowIfNull(vars);
        AttentionDropoutMask mask;
        Tensor context;
        if (vars.Length == 3)
        {
            // Packed: (projection, mask, heads); the context is [batch, sequence, heads · d]. Heads saved (> 0) mark it packed.
            Tensor projection = ((Tensor)vars[0]).contiguous();
            mask = (AttentionDropoutMask)vars[1];
            HeadLayout layout = HeadLayout.Packed(projection, (int)vars[2]);
            context = empty([projection.shape[0], layout.Shape.Queries, layout.Shape.HeadsPerSequence * layout.Shape.ValueWidth], dtype: ScalarType.Float32);
            Tensor probabilities = Forward(layout.With(TensorMemory.Floats(projection)), mask, TensorMemory.Floats(context));
            ctx.save_for_backward([projection, probabilities]);
            ctx.save_data(nameof(HeadLayout), (int)vars[2]);
        }
        else
        {
            Tensor query = ((Tensor)vars[0]).contiguous(), key = ((Tensor)vars[1]).contiguous(), value = ((Tensor)vars[2]).contiguous();
            mask = (AttentionDropoutMask)vars[3];
            HeadLayout layout = HeadLayout.Separate(query, key, value);
            // Written as [batch, query, heads, d] and returned as a [batch, heads, query, d] view, so that merging the heads
            // back (transpose and reshape) copies nothing.
            Tensor merged = empty([query.shape[0], layout.Shape.Queries, query.shape[1], layout.Shape.ValueWidth], dtype: ScalarType.Float32);
            float* q = TensorMemory.Floats(query), k = TensorMemory.Floats(key), v = TensorMemory.Floats(value);
            Tensor probabilities = Forward(layout.With(q, k, v), mask, TensorMemory.Floats(merged));
            ctx.save_for_backward([query, key, value, probabilities]);
            ctx.save_data(nameof(HeadLayout), 0);
            context = merged.permute(0, 2, 1, 3);
        }

        // The output always reaches the loss when the node runs; no zero gradient is ever built from TorchSharp's cache
        // (see AutogradFunctionScope).
        ctx.set_materialize_grads(false);
        ctx.save_data(nameof(AttentionDropoutMask), mask);
        return context;
    }

    /// <inheritdoc />
    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ArgumentNullException.ThrowIfNull(gradOutput);
        int packedHeads = (int)ctx.get_data(nameof(HeadLayout));
        if (gradOutput.IsInvalid)
        {
            return packedHeads > 0 ? [null!, null!, null!] : [null!, null!, null!, null!];
        }

        var mask = (AttentionDropoutMask)ctx.get_data(nameof(AttentionDropoutMask));
        List<Tensor> saved = ctx.get_saved_variables();
        if (packedHeads > 0)
        {
            using Tensor projection = saved[0], probabilities = saved[1];
            using Tensor gradient = gradOutput.contiguous();
            HeadLayout layout = HeadLayout.Packed(projection, packedHeads);
            Tensor projectionGradient = empty_like(projection);
            Backward(layout.With(TensorMemory.Floats(projection)), mask, TensorMemory.Floats(probabilities), TensorMemory.Floats(gradient), layout.With(TensorMemory.Floats(projectionGradient)));
            return [projectionGradient, null!, null!];
        }

        using Tensor query = saved[0], key = saved[1], value = saved[2], separateProbabilities = saved[3];
        // The context went out as a view of [batch, query, heads, d]; its gradient usually comes back in that layout.
        using Tensor merged = gradOutput.permute(0, 2, 1, 3).contiguous();
        HeadLayout separate = HeadLayout.Separate(query, key, value);
        Tensor queryGradient = empty_like(query), keyGradient = empty_like(key), valueGradient = empty_like(value);
        Backward(
            separate.With(TensorMemory.Floats(query), TensorMemory.Floats(key), TensorMemory.Floats(value)),
            mask,
            TensorMemory.Floats(separateProbabilities),
            TensorMemory.Floats(merged),
            separate.With(TensorMemory.Floats(queryGradient), TensorMemory.Floats(keyGradient), TensorMemory.Floats(valueGradient)));

        // One gradient per argument of apply: query, key, value, and none for the mask.
        return [queryGradient, keyGradient, valueGradient, null!];
    }

    // For every (sequence, head): scores = scale · Q·Kᵀ, the masked softmax and dropout row by row, context = dropped · V.
    private static Tensor Forward(HeadOperands operands, AttentionDropoutMask mask, float* context)
    {
        HeadShape shape = operands.Shape;
        Tensor probabilities = empty(shape.Heads * shape.Queries * shape.Keys, dtype: ScalarType.Float32);
        float* p = TensorMemory.Floats(probabilities);
        HeadOperand c = operands.Context(context);
        HeadOperand q = operands.Query, k = operands.Key, v = operands.Value;
        ForEachHead(shape, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (head, buffers) =>
        {
            int lq = shape.Queries, lk = shape.Keys, d = shape.Width, dv = shape.ValueWidth;
            float* scores = buffers.Map;
            MklGemm.RowMajor(false, true, lq, lk, d, shape.Scale, q.Head(head), q.RowStride, k.Head(head), k.RowStride, 0, scores, lk);
            uint* allowed = mask.AllowedKeys(head / shape.HeadsPerSequence);
            for (int i = 0; i < lq; i++)
            {
                long row = (head * lq) + i;
                float* rowMask = mask.FillRow(buffers.MaskRow, shape.MapElements, row * lk);
                // The dropped probabilities overwrite the scores they came from (the kernel reads them first).
                SoftmaxDropoutRows.Forward(scores + (i * lk), allowed, rowMask, p + (row * lk), scores + (i * lk), lk);
            }

            MklGemm.RowMajor(false, false, lq, dv, lk, 1, scores, lk, v.Head(head), v.RowStride, 0, c.Head(head), c.RowStride);
        });

        return probabilities;
    }

    // For every (sequence, head): d(dropped) = dC·Vᵀ, d(scores) row by row with the mask regenerated, then
    // dV = droppedᵀ·dC, dQ = scale · d(scores)·K, dK = scale · d(scores)ᵀ·Q, each written where its head lies.
    private static void Backward(HeadOperands operands, AttentionDropoutMask mask, float* p, float* contextGradient, HeadOperands gradients)
    {
        HeadShape shape = operands.Shape;
        HeadOperand dc = operands.Context(contextGradient);
        HeadOperand dq = gradients.Query, dk = gradients.Key, dValue = gradients.Value;
        HeadOperand q = operands.Query, k = operands.Key, v = operands.Value;
        ForEachHead(shape, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (head, buffers) =>
        {
            int lq = shape.Queries, lk = shape.Keys, d = shape.Width, dv = shape.ValueWidth;
            float* mapGradient = buffers.Map, dropped = buffers.Second;
            float* headGradient = dc.Head(head);
            MklGemm.RowMajor(false, true, lq, lk, dv, 1, headGradient, dc.RowStride, v.Head(head), v.RowStride, 0, mapGradient, lk);
            uint* allowed = mask.AllowedKeys(head / shape.HeadsPerSequence);
            for (int i = 0; i < lq; i++)
            {
                long row = (head * lq) + i;
                float* rowMask = mask.FillRow(buffers.MaskRow, shape.MapElements, row * lk);
                SoftmaxDropoutRows.Drop(p + (row * lk), rowMask, dropped + (i * lk), lk);
                // d(scores), in place of d(dropped), already scaled back from the dropout.
                SoftmaxDropoutRows.Backward(mapGradient + (i * lk), p + (row * lk), rowMask, allowed, mapGradient + (i * lk), lk);
            }

            MklGemm.RowMajor(true, false, lk, dv, lq, 1, dropped, lk, headGradient, dc.RowStride, 0, dValue.Head(head), dValue.RowStride);
            MklGemm.RowMajor(false, false, lq, d, lk, shape.Scale, mapGradient, lk, k.Head(head), k.RowStride, 0, dq.Head(head), dq.RowStride);
            MklGemm.RowMajor(true, false, lk, d, lq, shape.Scale, mapGradient, lk, q.Head(head), q.RowStride, 0, dk.Head(head), dk.RowStride);
        });
    }

    // What both entry points need whatever the inputs: p in [0, 1), the row kernels' vectors, and MKL's product.
    private static bool CanRun(double dropoutProbability) =>
        dropoutProbability >= 0 && dropoutProbability < 1 && System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated && MklGemm.IsAvailable;

    private static bool IsCpuFloat(Tensor t) => t.device_type == DeviceType.CPU && t.dtype == ScalarType.Float32;

    // Runs body for every (sequence, head) on LibTorch's thread team (up to torch's intra-op thread count), each thread with
    // its own buffers and MKL on that thread alone. Heads are independent, so the result does not depend on the split.
    private static void ForEachHead(HeadShape shape, Action<long, HeadBuffers> body) =>
        LibTorchThreadTeam.For(shape.Heads, get_num_threads(), () => new HeadBuffers(shape), body, buffers => buffers.Dispose());

    /// <summary>One thread's buffers: two score maps and a mask row, in native memory, and MKL kept to that thread.</summary>
    private sealed class HeadBuffers : IDisposable
    {
        private readonly MklGemm.ThreadScope mklThreads;

        public HeadBuffers(HeadShape shape)
        {
            long map = (long)shape.Queries * shape.Keys;
            Map = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)(((2 * map) + shape.Keys + 2) * sizeof(float)), 64);
            Second = Map + map;
            MaskRow = Second + map;
            mklThreads = MklGemm.OnThisThreadOnly();
        }

        public float* Map { get; }

        public float* Second { get; }

        public float* MaskRow { get; }

        public void Dispose()
        {
            mklThreads.Dispose();
            System.Runtime.InteropServices.NativeMemory.AlignedFree(Map);
        }
    }
}
