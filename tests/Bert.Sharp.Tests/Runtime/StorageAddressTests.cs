using Bert.Sharp.Runtime;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Runtime;

/// <summary>
/// The storage address the serving layout's per-call check compares (the Q/K/V weights are slices of one storage): read
/// directly from TorchSharp's native library here, it must be what TorchSharp's own Storage reports — for a tensor and
/// for views into it — and differ for a copy.
/// </summary>
public sealed class StorageAddressTests
{
    [Fact]
    public void A_tensor_and_its_views_share_the_address_torchsharp_reports_and_a_copy_does_not()
    {
        Assert.True(StorageAddress.IsDirect, "THSStorage_data_ptr was not found in TorchSharp's native library");
        using var scope = NewDisposeScope();
        Tensor storage = randn(8, 12);
        Tensor slice = storage.narrow(1, 4, 4).t();
        using Storage<float> expected = storage.storage<float>();
        Assert.Equal(expected.data_ptr(), StorageAddress.Of(storage));
        Assert.Equal(expected.data_ptr(), StorageAddress.Of(slice));
        Assert.NotEqual(StorageAddress.Of(storage), StorageAddress.Of(slice.contiguous()));
        Assert.Throws<ArgumentException>(() => StorageAddress.Of(storage.to(ScalarType.Float64)));
    }
}
