using System.Text.Json;
using System.Text.Json.Nodes;
using Bert.Sharp.Models;
using Bert.Sharp.Tests.TestSupport;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.PythonInterop;

/// <summary>
/// The Python hand-off of every head: a folder saved by Bert.Sharp, read by a plain-PyTorch mirror of Hugging Face's forward
/// (tests/python/hf_mirror.py, dispatching as AutoModel does), gives the same outputs (≤ 1e-4). One Python process checks
/// every folder, to keep CI fast.
/// </summary>
[Collection(Training.SerialTorchGroup.Name)]
public sealed class PythonMirrorTests
{
    private const float Tolerance = 1e-4f;

    [Fact]
    public void Every_saved_head_computes_the_same_outputs_in_python()
    {
        string root = TestTemp.NewDirectory("mirror");
        try
        {
            BertTokenizer tokenizer = BertTokenizer.FromVocabulary(TestAssets.UncasedVocabPath);
            string[] texts = ["The battery lasts for days.", "Terrible headset, it broke after two days!", "ok", "Motorola's Razr V3c works in the US and in Europe."];
            BatchEncoding batch = tokenizer.EncodeBatch(texts);
            var cases = new List<(string Folder, string Task, float[][] Expected)>();
            manual_seed(11);

            // Sequence classification, Hugging Face's own class (pooler) and Bert.Sharp's (mean pooling, custom code), on the real
            // MiniLM encoder with a seeded head; and a tiny random model with a regression head.
            string miniLm = MiniLmModel.EnsureImported();
            foreach (PoolingStrategy pooling in new[] { PoolingStrategy.Pooler, PoolingStrategy.Mean, PoolingStrategy.Cls })
            {
                using var model = BertForSequenceClassification.FromPretrained(miniLm, ["negative", "positive"], new ClassifierLoadOptions { Pooling = pooling, Seed = 7 });
                string folder = Path.Combine(root, $"seq-{pooling}");
                model.SavePretrained(folder, tokenizer);
                cases.Add((folder, "sequence-classification", Logits(model.Forward, batch)));
            }

            // Token classification: standard BertForTokenClassification (no pooler).
            using (var model = new BertForTokenClassification(TinyConfigs.Bert(vocab: tokenizer.VocabularySize, act: "gelu_new"), ["O", "B-X", "I-X"]))
            {
                string folder = Path.Combine(root, "tok");
                model.SavePretrained(folder, tokenizer);
                cases.Add((folder, "token-classification", Logits(model.Forward, batch)));
            }

            // Sentence embeddings: the sentence-transformers folder of the real model.
            using (var model = BertForSentenceEmbedding.FromPretrained(miniLm, new SentenceEmbeddingOptions { Pooling = PoolingStrategy.Mean, Normalize = true }))
            {
                string folder = Path.Combine(root, "emb");
                model.SavePretrained(folder, tokenizer);
                using var inputs = batch.ToTensors();
                using (no_grad())
                {
                    cases.Add((folder, "sentence-embedding", Rows(model.Forward(inputs.InputIds, inputs.AttentionMask, inputs.TokenTypeIds))));
                }
            }

            JsonArray requests = [.. cases.Select(c => (JsonNode)new JsonObject
            {
                ["folder"] = c.Folder,
                ["task"] = c.Task,
                ["input_ids"] = ToJson(batch.InputIds),
                ["attention_mask"] = ToJson(batch.AttentionMask),
                ["token_type_ids"] = ToJson(batch.TokenTypeIds),
            })];
            string requestFile = Path.Combine(root, "requests.json");
            File.WriteAllText(requestFile, requests.ToJsonString());
            JsonArray results = JsonNode.Parse(PythonWithTorch.RunScript("hf_mirror.py", requestFile).Trim())!.AsArray();

            // Token rows at padded positions carry no meaning (Bert.Sharp may skip them): only real tokens are compared.
            bool[] realTokens = [.. batch.AttentionMask.SelectMany(row => row.Select(m => m == 1))];
            for (int c = 0; c < cases.Count; c++)
            {
                float[][] python = [.. results[c]!["output"]!.AsArray().SelectMany(Flatten)];
                float[][] expected = cases[c].Expected;
                Assert.Equal(expected.Length, python.Length);
                bool perToken = expected.Length == realTokens.Length;
                float worst = 0;
                for (int r = 0; r < expected.Length; r++)
                {
                    if (perToken && !realTokens[r])
                    {
                        continue;
                    }

                    for (int k = 0; k < expected[r].Length; k++)
                    {
                        worst = Math.Max(worst, Math.Abs(expected[r][k] - python[r][k]));
                    }
                }

                Assert.True(worst <= Tolerance, $"{cases[c].Task} {Path.GetFileName(cases[c].Folder)}: max |Bert.Sharp - Python| = {worst}");
            }

            // The folders say what Python needs: the pooler head is Hugging Face's class; the others are not, so plain
            // BertForSequenceClassification cannot mistake them for its own.
            JsonNode pooler = JsonNode.Parse(File.ReadAllText(Path.Combine(root, "seq-Pooler", "config.json")))!;
            Assert.Equal("bert", pooler["model_type"]!.GetValue<string>());
            Assert.False(File.Exists(Path.Combine(root, "seq-Pooler", "modeling_bert_sharp.py")));
            JsonNode mean = JsonNode.Parse(File.ReadAllText(Path.Combine(root, "seq-Mean", "config.json")))!;
            Assert.Equal("bert_sharp", mean["model_type"]!.GetValue<string>());
            Assert.Equal("mean", mean["classifier_pooling"]!.GetValue<string>());
            Assert.Equal("modeling_bert_sharp.BertSharpForSequenceClassification", mean["auto_map"]!["AutoModelForSequenceClassification"]!.GetValue<string>());
            Assert.True(File.Exists(Path.Combine(root, "seq-Mean", "configuration_bert_sharp.py")));
        }
        finally
        {
            TestTemp.TryDelete(root); // about 350 MB of saved MiniLM heads
        }
    }

    private static float[][] Logits(Func<Tensor, Tensor?, Tensor?, Tensor?, SequenceClassifierOutput> forward, BatchEncoding batch)
    {
        using var inputs = batch.ToTensors();
        using var noGrad = no_grad();
        using SequenceClassifierOutput output = forward(inputs.InputIds, inputs.AttentionMask, inputs.TokenTypeIds, null);
        return Rows(output.Logits);
    }

    // Any [rows, ..., k] tensor as rows of k values (token classification: one row per token).
    private static float[][] Rows(Tensor tensor)
    {
        long k = tensor.shape[^1];
        float[] flat = tensor.contiguous().cpu().data<float>().ToArray();
        return [.. flat.Chunk((int)k)];
    }

    private static IEnumerable<float[]> Flatten(JsonNode? node) =>
        node is JsonArray array && array.Count > 0 && array[0] is JsonArray
            ? array.SelectMany(Flatten)
            : [[.. node!.AsArray().Select(v => v!.GetValue<float>())]];

    private static JsonArray ToJson(IReadOnlyList<int[]> rows) => [.. rows.Select(r => (JsonNode)new JsonArray([.. r.Select(v => (JsonNode)v)]))];
}
