using Bert.Sharp.Serving;
using Bert.Sharp.Tests.Checkpoints;
using Bert.Sharp.Tests.Onnx;
using Microsoft.Extensions.Logging;

namespace Bert.Sharp.Tests.OnnxServing;

/// <summary>
/// An int8 file whose products saturate on this CPU (8 bits on both sides, x86 without VNNI) is served with a warning
/// that says so and how to export it again, never silently; files that cannot saturate load without one.
/// </summary>
[Collection(ExportedModelsGroup.Name)]
public sealed class SaturatingInt8WarningTests(ExportedModelsFixture fixture)
{
    [Theory]
    [InlineData(null, null, null)]
    [InlineData("none", null, null)]
    [InlineData("dynamic_int8", null, "signed_weights (not recorded")]
    [InlineData("dynamic_int8", "signed_weights", "signed_weights")]
    [InlineData("dynamic_int8", "unsigned_weights", null)]
    [InlineData("dynamic_int8", "reduced_range", null)]
    [InlineData("dynamic_int8", "blockwise", null)]
    public void The_formats_that_saturate_without_vnni_are_signed_weights_and_unrecorded_int8(string? quantization, string? format, string? expected)
    {
        var metadata = new Dictionary<string, string>();
        if (quantization is not null)
        {
            metadata["quantization"] = quantization;
        }

        if (format is not null)
        {
            metadata["int8_format"] = format;
        }

        string? found = Int8KernelSupport.SaturatingFormat(metadata);

        if (expected is null)
        {
            Assert.Null(found);
        }
        else
        {
            Assert.StartsWith(expected, found, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(OnnxInt8Format.SignedWeights)]
    [InlineData(OnnxInt8Format.UnsignedWeights)]
    [InlineData(OnnxInt8Format.ReducedRange)]
    [InlineData(OnnxInt8Format.Blockwise)]
    public void Loading_warns_exactly_when_the_files_products_saturate_on_this_cpu(OnnxInt8Format format)
    {
        using ExportedModelsFixture.ScratchFolder scratch = fixture.NewScratch($"int8-warning-{format}");
        OnnxExporter.Export(fixture.PoolerClassifier, scratch.OnnxPath, new OnnxExportOptions { Quantization = OnnxQuantization.DynamicInt8, Int8Format = format });
        var logs = new ListLoggerProvider();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(logs));

        using (OnnxTextClassifier.FromPretrained(scratch.Directory, new OnnxClassifierOptions { LoggerFactory = loggers }))
        {
        }

        bool expected = format == OnnxInt8Format.SignedWeights && Int8KernelSupport.SignedProductsSaturate;
        string[] warnings = [.. logs.Messages.Where(m => m.Contains("saturating 16-bit", StringComparison.Ordinal))];
        Assert.Equal(expected ? 1 : 0, warnings.Length);
        if (expected)
        {
            Assert.Contains(scratch.OnnxPath, warnings[0], StringComparison.Ordinal);
            Assert.Contains("OnnxInt8Format.UnsignedWeights", warnings[0], StringComparison.Ordinal);
        }
    }
}
