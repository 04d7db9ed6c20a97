using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bert.Sharp.Modeling;

/// <summary>
/// Where the weights of a model's linear layers keep their numbers. Hugging Face's layout is [out, in] in row-major
/// order, which LibTorch's CPU product (MKL) reads transposed; stored column-major instead — the same [out, in] tensor,
/// the same values, shapes and names — <c>linear</c> reads it as a plain [in, out] matrix, which MKL multiplies faster
/// when the batch has few rows. On the trained sentiment classifier (AMD EPYC, AVX2) one short text was served 5–15 %
/// faster (<see cref="TextClassifier.Predict(string, string?)"/>), a text of 64–128 tokens 2–7 % slower, batches about the
/// same, with the same probabilities (docs/performance.md, "Column-major weights for serving"). The serving classes, which
/// own their model, store it so, with each layer's query, key and value weights as column slices of one storage that
/// inference multiplies by directly (<see cref="BertSelfAttention.ShareProjectionStorage"/>); training puts the weights back
/// in row-major order, each in its own storage, which the fused AdamW step needs. Saved files are the same either way
/// (tensors are written from contiguous copies).
/// </summary>
internal static class LinearWeightLayout
{
    /// <summary>Stores every CPU linear weight of <paramref name="model"/> column-major; returns how many moved.</summary>
    public static int UseColumnMajor(nn.Module model) => Relayout(model, columnMajor: true);

    /// <summary>
    /// The layout of a model a serving class owns: column-major weights (<see cref="UseColumnMajor"/>) and, with
    /// <paramref name="packWeights"/> (<see cref="InferenceOptions.PackWeights"/>), their copies for few-row inputs
    /// (<see cref="PackForSmallRows"/>).
    /// </summary>
    public static void UseForServing(nn.Module model, bool packWeights)
    {
        UseColumnMajor(model);
        if (packWeights)
        {
            PackForSmallRows(model);
        }
    }

    /// <summary>Stores every linear weight of <paramref name="model"/> row-major (contiguous) again, without packed copies; returns how many moved.</summary>
    public static int UseRowMajor(nn.Module model) => Relayout(model, columnMajor: false);

    /// <summary>
    /// For serving, after <see cref="UseColumnMajor"/>: gives every CPU linear weight (each layer's query, key and value as
    /// their one shared weight) a copy packed for few-row inputs (<see cref="PackedLinearWeight"/>), the weights' size again
    /// in memory; returns how many were packed (none where the kernel does not run).
    /// </summary>
    public static int PackForSmallRows(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        int packed = 0;
        var projections = new HashSet<BertLinear>();
        foreach (BertSelfAttention attention in model.modules().OfType<BertSelfAttention>())
        {
            // The projections are multiplied through the shared weight; their own copies would never be used.
            projections.UnionWith(attention.Projections);
            packed += attention.PackForSmallRows() ? 1 : 0;
        }

        foreach (BertLinear linear in model.modules().OfType<BertLinear>().Where(l => !projections.Contains(l)))
        {
            packed += linear.PackForSmallRows() ? 1 : 0;
        }

        return packed;
    }

    private static int Relayout(nn.Module model, bool columnMajor)
    {
        ArgumentNullException.ThrowIfNull(model);
        int moved = 0;
        using var noGrad = no_grad();
        if (columnMajor)
        {
            // Serving: first each layer's query, key and value weights, copied once into one storage whose column slices
            // they become; their columns are contiguous, so the loop below leaves them as they are.
            foreach (BertSelfAttention attention in model.modules().OfType<BertSelfAttention>())
            {
                moved += attention.ShareProjectionStorage();
            }
        }

        foreach (BertLinear linear in model.modules().OfType<BertLinear>())
        {
            Parameter weight = linear.Weight;
            // Only where it was measured: the CPU (a GPU's cuBLAS was not timed with it).
            if (columnMajor ? weight.device_type != DeviceType.CPU || IsColumnMajor(weight) : weight.is_contiguous())
            {
                continue;
            }

            using var scope = NewDisposeScope();
            // set_ keeps the parameter (its identity, gradient flag, registration) and gives it the new storage.
            weight.set_(columnMajor ? weight.t().contiguous().t() : weight.contiguous());
            moved++;
        }

        if (!columnMajor)
        {
            // Training: each weight has its own storage again (above), and the shared one and the packed copies are let go.
            foreach (BertSelfAttention attention in model.modules().OfType<BertSelfAttention>())
            {
                attention.ReleaseProjectionStorage();
            }

            foreach (BertLinear linear in model.modules().OfType<BertLinear>())
            {
                linear.ReleasePacked();
            }
        }

        return moved;
    }

    // Each column contiguous: the column-major layout, or a column slice of a shared [in, 3·out] storage.
    private static bool IsColumnMajor(Tensor weight) => weight.stride(0) == 1;
}
