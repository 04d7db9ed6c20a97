using System.Buffers;
using Bert.Sharp.Onnx.Proto;
using Bert.Sharp.Serving;
using Bert.Sharp.Tests.Checkpoints;
using Bert.Sharp.Tests.Onnx;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace Bert.Sharp.Tests.OnnxServing;

/// <summary>
/// On a CPU with VNNI, an int8 export with uint8 weights around 128 is served with the same weights as int8 and no zero
/// point (<see cref="SignedWeightEncoding"/>): the same numbers for ONNX Runtime, which then takes its dot-product kernels.
/// The re-encoded graph is checked against the file byte by byte, and on a VNNI CPU also by its outputs.
/// </summary>
[Collection(ExportedModelsGroup.Name)]
public sealed class VnniWeightEncodingTests(ExportedModelsFixture fixture)
{
    private static readonly Dictionary<string, int> ZeroPointInput = new() { ["MatMulIntegerToFloat"] = 5, ["DynamicQuantizeMatMul"] = 3, ["QAttention"] = 7 };

    [Theory]
    [InlineData(true, true)] // the default: per-token products (MatMulIntegerToFloat)
    [InlineData(false, true)] // one scale per batch, first token apart (DynamicQuantizeMatMul and MatMulIntegerToFloat)
    [InlineData(false, false)] // one scale per batch (DynamicQuantizeMatMul and QAttention)
    public void Every_uint8_product_weight_becomes_the_same_numbers_as_int8_without_a_zero_point(bool perTokenActivations, bool preciseFirstToken)
    {
        using ExportedModelsFixture.ScratchFolder scratch = fixture.NewScratch($"vnni-{perTokenActivations}-{preciseFirstToken}");
        OnnxExporter.Export(fixture.Embedder, scratch.OnnxPath, new OnnxExportOptions
        {
            Quantization = OnnxQuantization.DynamicInt8,
            PerTokenActivations = perTokenActivations,
            PreciseFirstToken = preciseFirstToken,
        });
        byte[] file = File.ReadAllBytes(scratch.OnnxPath);
        ModelProto before = ModelProto.Parser.ParseFrom(file);
        using (FileStream stream = File.OpenRead(scratch.OnnxPath))
        {
            Assert.True(SignedWeightEncoding.IsUnsignedWeightsExport(stream));
        }

        (byte[] reencoded, int weights) = Assert.NotNull(SignedWeightEncoding.Reencode(file));
        ModelProto after = ModelProto.Parser.ParseFrom(reencoded);

        TensorProto[] unsignedBefore = [.. before.Graph.Initializer.Where(t => t.DataType == (int)TensorProto.Types.DataType.Uint8 && t.RawData.Length > 1)];
        Assert.NotEmpty(unsignedBefore);
        Assert.Equal(unsignedBefore.Length, weights);
        var afterByName = after.Graph.Initializer.ToDictionary(t => t.Name);
        foreach (TensorProto weight in unsignedBefore)
        {
            TensorProto signed = afterByName[weight.Name];
            Assert.Equal((int)TensorProto.Types.DataType.Int8, signed.DataType);
            Assert.Equal(weight.Dims, signed.Dims);
            byte[] expected = [.. weight.RawData.Select(b => unchecked((byte)(sbyte)(b - 128)))];
            Assert.Equal(expected, signed.RawData.ToByteArray());
        }

        // Nothing else changed: the other initializers byte for byte (the zero point 128 is gone, no node uses it), the
        // nodes in order with the same inputs but the weights' zero points, and the metadata.
        var rewritten = unsignedBefore.Select(t => t.Name).ToHashSet();
        TensorProto zeroPoint = Assert.Single(before.Graph.Initializer, t => t.DataType == (int)TensorProto.Types.DataType.Uint8 && t.RawData.Length == 1);
        Assert.DoesNotContain(after.Graph.Initializer, t => t.Name == zeroPoint.Name);
        Assert.Equal(
            before.Graph.Initializer.Where(t => !rewritten.Contains(t.Name) && t.Name != zeroPoint.Name).Select(t => t.ToByteString()),
            after.Graph.Initializer.Where(t => !rewritten.Contains(t.Name)).Select(t => t.ToByteString()));
        Assert.Equal(before.Graph.Node.Count, after.Graph.Node.Count);
        int products = 0;
        foreach ((NodeProto old, NodeProto now) in before.Graph.Node.Zip(after.Graph.Node))
        {
            Assert.Equal(old.OpType, now.OpType);
            Assert.Equal(old.Output, now.Output);
            Assert.Equal(old.Attribute, now.Attribute);
            string[] expectedInputs = [.. old.Input];
            if (ZeroPointInput.TryGetValue(old.OpType, out int at) && expectedInputs.Length > at && expectedInputs[at] == zeroPoint.Name)
            {
                products++;
                expectedInputs[at] = string.Empty;
                expectedInputs = [.. expectedInputs.Reverse().SkipWhile(i => i.Length == 0).Reverse()];
            }

            Assert.Equal(expectedInputs, now.Input);
        }

        Assert.True(products >= weights, $"{products} products for {weights} weights");
        Assert.Equal(before.MetadataProps, after.MetadataProps);
        Assert.Equal(before.OpsetImport, after.OpsetImport);

        // ONNX Runtime loads it; with VNNI its products are exact either way, so the outputs are the file's. Without VNNI
        // int8 weights saturate (which is why the file keeps uint8 and only a VNNI CPU re-encodes it): only finite there.
        using var fromFile = new InferenceSession(file);
        using var fromReencoded = new InferenceSession(reencoded);
        foreach (OnnxTestBatch batch in OnnxTestBatch.All())
        {
            float[] expected = batch.Run(fromFile)["sentence_embedding"], actual = batch.Run(fromReencoded)["sentence_embedding"];
            Assert.All(actual, v => Assert.True(float.IsFinite(v)));
            if (Int8KernelSupport.HasVnniKernels)
            {
                Assert.Equal(expected, actual);
            }
        }
    }

    [Theory]
    [InlineData(OnnxQuantization.None, OnnxInt8Format.UnsignedWeights)]
    [InlineData(OnnxQuantization.DynamicInt8, OnnxInt8Format.SignedWeights)]
    [InlineData(OnnxQuantization.DynamicInt8, OnnxInt8Format.ReducedRange)]
    public void Float32_and_signed_exports_are_left_as_they_are(OnnxQuantization quantization, OnnxInt8Format format)
    {
        using ExportedModelsFixture.ScratchFolder scratch = fixture.NewScratch($"vnni-none-{quantization}-{format}");
        OnnxExporter.Export(fixture.PoolerClassifier, scratch.OnnxPath, new OnnxExportOptions { Quantization = quantization, Int8Format = format });

        Assert.Null(SignedWeightEncoding.Reencode(File.ReadAllBytes(scratch.OnnxPath)));
        using FileStream stream = File.OpenRead(scratch.OnnxPath);
        Assert.False(SignedWeightEncoding.IsUnsignedWeightsExport(stream));
    }

    [Fact]
    public void The_metadata_is_read_without_the_graph_and_a_truncated_file_is_refused()
    {
        using ExportedModelsFixture.ScratchFolder scratch = fixture.NewScratch("vnni-truncated");
        OnnxExporter.Export(fixture.PoolerClassifier, scratch.OnnxPath, new OnnxExportOptions { Quantization = OnnxQuantization.DynamicInt8 });
        byte[] file = File.ReadAllBytes(scratch.OnnxPath);
        var counting = new CountingStream(file);
        Assert.True(SignedWeightEncoding.IsUnsignedWeightsExport(counting));
        Assert.True(counting.BytesRead < file.Length / 100, $"read {counting.BytesRead} of {file.Length} bytes to find the metadata");

        using var truncated = new MemoryStream(file, 0, file.Length - 10);
        Assert.Throws<InvalidDataException>(() => SignedWeightEncoding.IsUnsignedWeightsExport(truncated));
        Assert.Throws<InvalidDataException>(() => SignedWeightEncoding.Reencode(file.AsMemory(0, file.Length / 2)));
    }

    [Fact]
    public void A_model_whose_uint8_weight_is_also_used_elsewhere_or_declared_with_its_type_keeps_it()
    {
        // The same uint8 initializer as a product weight and as the input of another node: re-encoding it would change
        // what the other node reads, so it stays uint8 and its product keeps the zero point.
        using ExportedModelsFixture.ScratchFolder scratch = fixture.NewScratch("vnni-shared");
        OnnxExporter.Export(fixture.Embedder, scratch.OnnxPath, new OnnxExportOptions { Quantization = OnnxQuantization.DynamicInt8 });
        ModelProto model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(scratch.OnnxPath));
        TensorProto[] weights = [.. model.Graph.Initializer.Where(t => t.DataType == (int)TensorProto.Types.DataType.Uint8 && t.RawData.Length > 1)];
        var extra = new NodeProto { OpType = "Identity", Name = "extra_use" };
        extra.Input.Add(weights[0].Name);
        extra.Output.Add("extra_output");
        model.Graph.Node.Add(extra);

        // And one declared as a graph input with its uint8 type, as exporters before IR version 4 list initializers.
        var declared = new ValueInfoProto { Name = weights[1].Name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Uint8 } } };
        model.Graph.Input.Add(declared);

        (byte[] reencoded, int count) = Assert.NotNull(SignedWeightEncoding.Reencode(model.ToByteArray()));

        Assert.Equal(weights.Length - 2, count);
        Assert.Equal((int)TensorProto.Types.DataType.Uint8, ModelProto.Parser.ParseFrom(reencoded).Graph.Initializer.Single(t => t.Name == weights[1].Name).DataType);
        ModelProto after = ModelProto.Parser.ParseFrom(reencoded);
        Assert.Equal((int)TensorProto.Types.DataType.Uint8, after.Graph.Initializer.Single(t => t.Name == weights[0].Name).DataType);
        NodeProto product = after.Graph.Node.Single(n => n.OpType == "MatMulIntegerToFloat" && n.Input[1] == weights[0].Name);
        Assert.Equal(6, product.Input.Count); // its zero point kept, and so the zero point's initializer
        Assert.Contains(after.Graph.Initializer, t => t.Name == product.Input[5]);
    }

    [Fact]
    public void A_model_with_external_data_is_left_to_load_from_its_path()
    {
        // Loaded from memory, ONNX Runtime would not find the data file beside the model.
        using ExportedModelsFixture.ScratchFolder scratch = fixture.NewScratch("vnni-external");
        OnnxExporter.Export(fixture.Embedder, scratch.OnnxPath, new OnnxExportOptions { Quantization = OnnxQuantization.DynamicInt8 });
        ModelProto model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(scratch.OnnxPath));
        Assert.NotNull(SignedWeightEncoding.Reencode(model.ToByteArray()));
        TensorProto floats = model.Graph.Initializer.First(t => t.DataType == (int)TensorProto.Types.DataType.Float);
        floats.DataLocation = TensorProto.Types.DataLocation.External;
        floats.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "model.onnx.data" });

        Assert.Null(SignedWeightEncoding.Reencode(model.ToByteArray()));
    }

    [Theory]
    [InlineData(new byte[] { 0x0A })] // a length-delimited field with no length
    [InlineData(new byte[] { 0x3A, 0x05, 0x01 })] // ModelProto.graph claiming five bytes, holding one
    [InlineData(new byte[] { 0x0B })] // wire type 3 (a group)
    [InlineData(new byte[] { 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 })] // an eleven-byte varint
    public void Malformed_bytes_are_refused_with_an_invalid_data_exception(byte[] bytes) =>
        Assert.Throws<InvalidDataException>(() => SignedWeightEncoding.Reencode(bytes));

    [Fact]
    public void Random_bytes_are_either_not_an_unsigned_weights_export_or_refused_never_another_exception()
    {
        var random = new Random(20261207);
        for (int i = 0; i < 2000; i++)
        {
            byte[] bytes = new byte[random.Next(0, 64)];
            random.NextBytes(bytes);
            try
            {
                Assert.Null(SignedWeightEncoding.Reencode(bytes));
            }
            catch (InvalidDataException)
            {
                // what a malformed model gives; OnnxModelSession then lets ONNX Runtime report the file
            }
        }
    }

    [Fact]
    public void Fields_written_are_read_back_with_their_numbers_and_values()
    {
        var output = new ArrayBufferWriter<byte>();
        ulong[] values = [0, 1, 127, 128, 300, 16_384, uint.MaxValue, ulong.MaxValue];
        for (int i = 0; i < values.Length; i++)
        {
            ProtobufFields.WriteVarintField(output, i + 1, values[i]);
        }

        ProtobufFields.WriteString(output, 200, "é — 字");
        ProtobufFields.WriteBytes(output, 3, new byte[300]);
        byte[] written = output.WrittenSpan.ToArray();

        List<ProtobufFields.Field> fields = ProtobufFields.Read(written);

        Assert.Equal([.. Enumerable.Range(1, values.Length), 200, 3], fields.Select(f => f.Number));
        Assert.Equal(values, fields.Take(values.Length).Select(f => ProtobufFields.VarintValue(written, f)));
        Assert.Equal("é — 字", ProtobufFields.String(written, fields[^2]));
        Assert.Equal(300, fields[^1].End - fields[^1].PayloadStart);
        Assert.Equal(written.Length, fields[^1].End);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Loading_reencodes_only_on_a_vnni_cpu_and_only_when_asked_and_predicts_the_same(bool reencode)
    {
        using ExportedModelsFixture.ScratchFolder scratch = fixture.NewScratch($"vnni-load-{reencode}");
        OnnxExporter.Export(fixture.PoolerClassifier, scratch.OnnxPath, new OnnxExportOptions { Quantization = OnnxQuantization.DynamicInt8 });
        var logs = new ListLoggerProvider(LogLevel.Information);
        using var loggers = LoggerFactory.Create(b => b.AddProvider(logs));
        string[] texts = ["a short review", "a much longer review that goes on for a while about the product and its battery"];

        Prediction[] predicted, asFile;
        using (var classifier = OnnxTextClassifier.FromPretrained(scratch.Directory, new OnnxClassifierOptions { LoggerFactory = loggers, ReencodeInt8ForVnni = reencode }))
        {
            predicted = [.. classifier.PredictBatch(texts)];
        }

        using (var plain = OnnxTextClassifier.FromPretrained(scratch.Directory, new OnnxClassifierOptions { ReencodeInt8ForVnni = false }))
        {
            asFile = [.. plain.PredictBatch(texts)];
        }

        string[] notes = [.. logs.Messages.Where(m => m.Contains("re-encoded in memory as int8", StringComparison.Ordinal))];
        Assert.Equal(reencode && Int8KernelSupport.HasVnniKernels ? 1 : 0, notes.Length);
        if (notes.Length == 1)
        {
            Assert.Contains(scratch.OnnxPath, notes[0], StringComparison.Ordinal);
        }

        Assert.Equal(asFile.Select(p => p.Probabilities.ToArray()), predicted.Select(p => p.Probabilities.ToArray()));
    }

    // A MemoryStream that counts the bytes read from it (seeks past skipped fields are not reads).
    private sealed class CountingStream(byte[] buffer) : MemoryStream(buffer, writable: false)
    {
        public long BytesRead { get; private set; }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int read = base.Read(buffer, offset, count);
            BytesRead += read;
            return read;
        }

        public override int Read(Span<byte> buffer)
        {
            int read = base.Read(buffer);
            BytesRead += read;
            return read;
        }

        public override int ReadByte()
        {
            int read = base.ReadByte();
            BytesRead += read < 0 ? 0 : 1;
            return read;
        }
    }
}
