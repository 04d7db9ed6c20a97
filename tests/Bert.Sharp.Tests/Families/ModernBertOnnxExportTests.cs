using Bert.Sharp.Tests.TestSupport;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace Bert.Sharp.Tests.Families;

/// <summary>
/// ModernBERT folders exported to ONNX (Optimum's inputs <c>input_ids</c> and <c>attention_mask</c>): ONNX Runtime's
/// logits and hidden states equal the TorchSharp model's (itself checked against the Python mirror of modeling_modernbert)
/// within 1e-4 on padded rows of 20, 13, 6 and 1 tokens under a local window of 8, so every local layer masks keys by
/// distance and by padding; biases on and off, <c>cls</c> and <c>mean</c> pooling, GELU and tanh-GELU; every parameter
/// random with a wide spread. The exported folders serve through OnnxTextClassifier and OnnxTokenClassifier as through
/// TextClassifier and TokenClassifier, and a sentence-transformers folder through OnnxSentenceEmbedder as through
/// SentenceEmbedder. The int8 export keeps the float32 export's scores on a calibration set.
/// </summary>
[Collection(Training.SerialTorchGroup.Name)]
public sealed class ModernBertOnnxExportTests
{
    private static readonly int[] Lengths = [20, 13, 6, 1];

    [Theory]
    [InlineData(true, "cls", "gelu")]
    [InlineData(false, "mean", "gelu_pytorch_tanh")]
    public void Onnx_runtime_computes_what_the_model_computes_on_padded_batches(bool biases, string pooling, string activation)
    {
        BertConfig config = ModernBertTests.Config(biases: biases, pooling: pooling, activation: activation);
        (long[] ids, long[] mask, int length) = Batch();
        bool[] sequences = [.. Lengths.Select(_ => true)];
        bool[] realTokens = [.. mask.Select(m => m == 1)];
        string dir = TestTemp.NewDirectory("modernbert-onnx");
        try
        {
            using (var classifier = MirrorRequests.WideSpread(new BertForSequenceClassification(config, ["a", "b", "c"]), 41))
            {
                float[][] expected = Rows(Forward(classifier.Forward, ids, mask, length), 3);
                float[][] actual = Rows(Export(classifier, Path.Combine(dir, "sequence"), ids, mask, length, "logits"), 3);
                MirrorRequests.AssertClose("sequence logits", expected, actual, sequences);
            }

            using (var tagger = MirrorRequests.WideSpread(new BertForTokenClassification(config, ["O", "B-X", "I-X", "B-Y"]), 42))
            {
                float[][] expected = Rows(Forward(tagger.Forward, ids, mask, length), 4);
                float[][] actual = Rows(Export(tagger, Path.Combine(dir, "token"), ids, mask, length, "logits"), 4);
                MirrorRequests.AssertClose("token logits", expected, actual, realTokens);
            }

            using (var encoder = MirrorRequests.WideSpread(new BertModel(config), 43))
            {
                float[] expected;
                using (no_grad())
                using (Tensor i = tensor(ids, [Lengths.Length, length]))
                using (Tensor m = tensor(mask, [Lengths.Length, length]))
                using (BertModelOutput output = encoder.Forward(i, m))
                {
                    expected = output.LastHiddenState.contiguous().data<float>().ToArray();
                }

                string folder = Path.Combine(dir, "base");
                encoder.SavePretrained(folder);
                OnnxExporter.Export(folder, Path.Combine(folder, "model.onnx"));
                float[] actual = Run(Path.Combine(folder, "model.onnx"), ids, mask, length, "last_hidden_state");
                MirrorRequests.AssertClose("last hidden state", Rows(expected, config.HiddenSize), Rows(actual, config.HiddenSize), realTokens);
            }
        }
        finally
        {
            TestTemp.TryDelete(dir);
        }
    }

    [Fact]
    public void An_exported_modernbert_folder_serves_as_the_torchsharp_classifiers_serve_it()
    {
        string[] texts = ["The battery was really good, and the screen great.", "awful", "", "a", "a much longer text that pads the others in its batch with the pad token id of the model"];
        string dir = TestTemp.NewDirectory("modernbert-onnx-serve");
        try
        {
            using (BertForSequenceClassification model = ModernBertTaskTests.Model(51, "mean"))
            {
                (string saved, string exported) = SaveAndExport(model, dir, "sequence");
                using TextClassifier reference = TextClassifier.FromPretrained(saved);
                using OnnxTextClassifier onnx = OnnxTextClassifier.FromPretrained(exported);
                IReadOnlyList<Prediction> expected = reference.PredictBatch(texts);
                IReadOnlyList<Prediction> actual = onnx.PredictBatch(texts);
                for (int i = 0; i < texts.Length; i++)
                {
                    Assert.Equal(expected[i].Label, actual[i].Label);
                    Assert.Equal(expected[i].Probabilities["positive"], actual[i].Probabilities["positive"], 4);
                }
            }

            // A sentence-transformers folder (mean pooling, normalised): OnnxSentenceEmbedder = SentenceEmbedder.
            using (var embedding = new BertForSentenceEmbedding(ModernBertTaskTests.Model(53).Bert, PoolingStrategy.Mean, normalize: true))
            {
                (string saved, string exported) = SaveAndExport(embedding, dir, "embedding");
                using SentenceEmbedder reference = SentenceEmbedder.FromPretrained(saved);
                using OnnxSentenceEmbedder onnx = OnnxSentenceEmbedder.FromPretrained(exported);
                float[][] expected = reference.Embed(texts);
                float[][] actual = onnx.Embed(texts);
                MirrorRequests.AssertClose("sentence embeddings", expected, actual, [.. texts.Select(_ => true)]);
            }

            int vocab = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(ModernBertTaskTests.TokenizerFolder.Value, "tokenizer.json")))!["model"]!["vocab"]!.AsObject().Count;
            BertConfig config = ModernBertTests.Config(vocab: vocab, pad: ModernBertTaskTests.IdOf("[PAD]"));
            using (var tagger = SeededWeights.Apply(new BertForTokenClassification(config, ["O", "B-X", "I-X"]), 52, initializerRange: 0.3))
            {
                (string saved, string exported) = SaveAndExport(tagger, dir, "token");
                using TokenClassifier reference = TokenClassifier.FromPretrained(saved, new TokenClassifierOptions { Aggregation = AggregationStrategy.Simple });
                using OnnxTokenClassifier onnx = OnnxTokenClassifier.FromPretrained(exported, new OnnxClassifierOptions { Aggregation = AggregationStrategy.Simple });
                IReadOnlyList<IReadOnlyList<Entity>> expected = reference.PredictBatch(texts);
                IReadOnlyList<IReadOnlyList<Entity>> actual = onnx.PredictBatch(texts);
                Assert.Contains(expected, e => e.Count > 0);
                for (int i = 0; i < texts.Length; i++)
                {
                    Assert.Equal(expected[i].Select(e => (e.Group, e.Start, e.End)), actual[i].Select(e => (e.Group, e.Start, e.End)));
                    Assert.All(expected[i].Zip(actual[i]), p => Assert.Equal(p.First.Score, p.Second.Score, 4));
                }
            }
        }
        finally
        {
            TestTemp.TryDelete(dir);
        }
    }

    [Theory]
    [InlineData(OnnxInt8Format.UnsignedWeights)]
    [InlineData(OnnxInt8Format.Blockwise)]
    public void Int8_export_of_modernbert_keeps_the_scores_of_the_float32_export(OnnxInt8Format format)
    {
        string dir = TestTemp.NewDirectory("modernbert-int8");
        try
        {
            string[] texts = [.. Training.ToyData.Sentiment(40).Select(e => e.Text), "東京は日本の首都です。今日はとても良い天気ですね。", "mixed 漢字 and Latin", "", "a"];
            using (BertForSequenceClassification model = FamilyOnnxExportTests.DecisiveHead(ModernBertTaskTests.Model(61, "mean")))
            {
                model.SavePretrained(dir);
                File.Copy(Path.Combine(ModernBertTaskTests.TokenizerFolder.Value, "tokenizer.json"), Path.Combine(dir, "tokenizer.json"), overwrite: true);
            }

            // Every encoder projection but layer 0's mlp.Wo (kept float32 by default, except by Blockwise) of the three layers
            // runs as an int8 product.
            FamilyOnnxExportTests.AssertInt8KeepsTheScores(dir, texts, minimumInt8Products: format == OnnxInt8Format.Blockwise ? 3 * 4 : (3 * 4) - 1, format);
        }
        finally
        {
            TestTemp.TryDelete(dir);
        }
    }

    [Fact]
    public void Importing_a_modernbert_export_back_is_refused_naming_the_file()
    {
        // OnnxImporter reads BERT graphs (Optimum's, ONNX Runtime's fused ones) back into checkpoints; a ModernBERT graph is not one.
        string dir = TestTemp.NewDirectory("modernbert-import");
        try
        {
            using (BertForSequenceClassification model = ModernBertTaskTests.Model(5))
            {
                model.SavePretrained(dir);
            }

            string onnx = Path.Combine(dir, "model.onnx");
            OnnxExporter.Export(dir, onnx);
            Exception e = Assert.ThrowsAny<Exception>(() => OnnxImporter.ImportToDirectory(onnx, Path.Combine(dir, "imported")));
            Assert.True(e is InvalidDataException or NotSupportedException, e.ToString());
            Assert.Contains(onnx, e.Message, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(dir, "imported", "model.safetensors")));
        }
        finally
        {
            TestTemp.TryDelete(dir);
        }
    }

    // The model saved with the ModernBERT tokenizer.json (dir/name/saved) and exported to fp32 ONNX beside its serving files (dir/name/onnx).
    private static (string Saved, string Exported) SaveAndExport(BertTaskModel model, string dir, string name)
    {
        model.eval();
        string saved = Path.Combine(dir, name, "saved");
        model.SavePretrained(saved);
        File.Copy(Path.Combine(ModernBertTaskTests.TokenizerFolder.Value, "tokenizer.json"), Path.Combine(saved, "tokenizer.json"), overwrite: true);
        string exported = Path.Combine(dir, name, "onnx");
        Directory.CreateDirectory(exported);
        OnnxExporter.Export(saved, Path.Combine(exported, "model.onnx"));
        Assert.True(File.Exists(Path.Combine(exported, "tokenizer.json")));
        return (saved, exported);
    }

    // Right-padded rows of Lengths tokens, real ids 1..99 (the padding id is 0).
    private static (long[] Ids, long[] Mask, int Length) Batch()
    {
        var random = new Random(1206);
        int length = Lengths.Max();
        var ids = new long[Lengths.Length * length];
        var mask = new long[ids.Length];
        for (int b = 0; b < Lengths.Length; b++)
        {
            for (int t = 0; t < Lengths[b]; t++)
            {
                ids[(b * length) + t] = random.Next(1, 100);
                mask[(b * length) + t] = 1;
            }
        }

        return (ids, mask, length);
    }

    private static float[] Forward(Func<Tensor, Tensor?, Tensor?, Tensor?, SequenceClassifierOutput> forward, long[] ids, long[] mask, int length)
    {
        using var noGrad = no_grad();
        using Tensor i = tensor(ids, [Lengths.Length, length]);
        using Tensor m = tensor(mask, [Lengths.Length, length]);
        using SequenceClassifierOutput output = forward(i, m, null, null);
        return output.Logits.contiguous().data<float>().ToArray();
    }

    private static float[] Export(BertTaskModel model, string folder, long[] ids, long[] mask, int length, string output)
    {
        model.SavePretrained(folder);
        OnnxExporter.Export(folder, Path.Combine(folder, "model.onnx"));
        return Run(Path.Combine(folder, "model.onnx"), ids, mask, length, output);
    }

    private static float[] Run(string path, long[] ids, long[] mask, int length, string output)
    {
        using var session = new InferenceSession(path);
        Assert.Equal(["attention_mask", "input_ids"], session.InputMetadata.Keys.Order(StringComparer.Ordinal));
        int[] dims = [Lengths.Length, length];
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids, dims)),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(mask, dims)),
        };
        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results = session.Run(inputs, [output]);
        return results.Single().AsTensor<float>().ToArray();
    }

    private static float[][] Rows(float[] values, int width) => [.. values.Chunk(width)];
}
