using Bert.Sharp.Onnx;
using Bert.Sharp.Serving;

namespace Bert.Sharp.Tests.OnnxServing;

/// <summary>The exporter (Bert.Sharp) and the serving package (Bert.Sharp.Onnx) keep their own copies of the metadata keys.</summary>
public sealed class MetadataKeyTests
{
    [Fact]
    public void Exporter_and_serving_package_use_the_same_metadata_keys()
    {
        Assert.Equal(OnnxMetadataKeys.Id2Label, OnnxModelFolder.Id2LabelKey);
        Assert.Equal(OnnxMetadataKeys.ProblemType, OnnxModelFolder.ProblemTypeKey);
        Assert.Equal(OnnxMetadataKeys.MaxPositionEmbeddings, OnnxModelFolder.MaxPositionsKey);
        Assert.Equal(OnnxMetadataKeys.Quantization, Int8KernelSupport.QuantizationKey);
        Assert.Equal(OnnxMetadataKeys.Int8Format, Int8KernelSupport.Int8FormatKey);
    }
}
