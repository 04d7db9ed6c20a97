using Bert.Sharp.Tests.Checkpoints;
using Bert.Sharp.Tests.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Modeling;

/// <summary>
/// Inputs that used to pass the validator and then fail in native code (issue 10, item 7): int32 ids, and a sequence
/// length of 0. Each is now either computed exactly like its int64 form or refused with an <see cref="ArgumentException"/>
/// naming the argument and the shape or dtype.
/// </summary>
public sealed class BertInputValidatorTests : IDisposable
{
    private readonly BertModel model;

    public BertInputValidatorTests()
    {
        manual_seed(7);
        model = new BertModel(TinyConfigs.Bert());
        model.eval();
    }

    public void Dispose() => model.Dispose();

    [Fact]
    public void Int32_ids_token_types_and_positions_give_the_int64_results_exactly()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor ids = tensor(new long[,] { { 2, 17, 45, 3 }, { 2, 99, 3, 0 } });
        Tensor types = tensor(new long[,] { { 0, 0, 1, 1 }, { 0, 1, 1, 1 } });
        Tensor positions = tensor(new long[,] { { 0, 1, 2, 3 } });
        Tensor mask = tensor(new long[,] { { 1, 1, 1, 1 }, { 1, 1, 1, 0 } });
        BertModelOutput wide = model.Forward(ids, mask, types, new BertForwardOptions { PositionIds = positions });
        BertModelOutput narrow = model.Forward(ids.to_type(ScalarType.Int32), mask.to_type(ScalarType.Int32), types.to_type(ScalarType.Int32), new BertForwardOptions { PositionIds = positions.to_type(ScalarType.Int32) });
        Assert.True(TensorAssert.BitEqual(wide.LastHiddenState, narrow.LastHiddenState));
        Assert.True(TensorAssert.BitEqual(wide.PooledOutput!, narrow.PooledOutput!));
    }

    [Theory]
    [InlineData(ScalarType.Int16)]
    [InlineData(ScalarType.Int8)]
    [InlineData(ScalarType.Byte)]
    [InlineData(ScalarType.Float32)]
    public void Ids_of_other_types_are_refused_naming_the_type(ScalarType type)
    {
        using var ids = ones(2, 3, type);
        var e = Assert.Throws<ArgumentException>(() => model.Forward(ids));
        Assert.Equal("inputIds", e.ParamName);
        Assert.Contains($"int64 (preferred) or int32 tensor; got {type}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Int32_ids_out_of_range_are_refused_before_native_code()
    {
        using var ids = tensor(new int[,] { { 1, 100 } });
        var e = Assert.Throws<ArgumentException>(() => model.Forward(ids));
        Assert.Contains("contain 100, outside [0, 100) set by vocab_size=100", e.Message, StringComparison.Ordinal);

        using var types = tensor(new int[,] { { 0, -1 } });
        using var good = tensor(new int[,] { { 1, 2 } });
        e = Assert.Throws<ArgumentException>(() => model.Forward(good, null, types));
        Assert.Equal("tokenTypeIds", e.ParamName);
        Assert.Contains("contain -1", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ScalarType.Int64, false)]
    [InlineData(ScalarType.Int64, true)]
    [InlineData(ScalarType.Int32, false)]
    [InlineData(ScalarType.Int32, true)]
    public void Ids_are_range_checked_whether_read_in_place_or_reduced(ScalarType type, bool strided)
    {
        // Contiguous CPU ids are read where they lie; a strided view (here a transpose) goes through the reduction path.
        static Tensor Ids(long[,] values, ScalarType type, bool strided)
        {
            Tensor t = tensor(values).to_type(type);
            return strided ? t.t() : t;
        }

        using var scope = NewDisposeScope();
        Tensor tooLarge = Ids(new long[,] { { 1, 2 }, { 99, 100 }, { 3, 4 } }, type, strided);
        Tensor negative = Ids(new long[,] { { 1, 2 }, { -5, 7 }, { 3, 4 } }, type, strided);
        Tensor fine = Ids(new long[,] { { 1, 2 }, { 99, 0 }, { 3, 4 } }, type, strided);
        Assert.Equal(!strided, tooLarge.is_contiguous());
        Assert.Contains("contain 100, outside [0, 100)", Assert.Throws<ArgumentException>(() => model.Forward(tooLarge)).Message, StringComparison.Ordinal);
        Assert.Contains("contain -5, outside [0, 100)", Assert.Throws<ArgumentException>(() => model.Forward(negative)).Message, StringComparison.Ordinal);
        using var noGrad = no_grad();
        Assert.Equal(fine.shape[0], model.Forward(fine).LastHiddenState.shape[0]);
    }

    [Fact]
    public void A_sequence_length_of_zero_is_refused_naming_the_shape()
    {
        using var ids = zeros(2, 0, ScalarType.Int64);
        var e = Assert.Throws<ArgumentException>(() => model.Forward(ids));
        Assert.Equal("inputIds", e.ParamName);
        Assert.Contains("shape [2, 0]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_batch_computes_an_empty_result()
    {
        using var ids = zeros(0, 4, ScalarType.Int64);
        using var noGrad = no_grad();
        using BertModelOutput output = model.Forward(ids);
        Assert.Equal(new long[] { 0, 4, 32 }, output.LastHiddenState.shape);
    }

    [Fact]
    public void A_mask_of_a_complex_type_is_refused()
    {
        using var ids = ones(1, 2, ScalarType.Int64);
        using var mask = ones(1, 2, ScalarType.ComplexFloat32);
        var e = Assert.Throws<ArgumentException>(() => model.Forward(ids, mask));
        Assert.Equal("attentionMask", e.ParamName);
    }
}
