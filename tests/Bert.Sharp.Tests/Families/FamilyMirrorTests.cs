using System.Text.Json.Nodes;
using Bert.Sharp.Tests.TestSupport;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Families;

/// <summary>
/// Folders of every family saved by Bert.Sharp (sequence and token heads, every parameter random with a wide spread so that
/// every term of the forward matters: biases, LayerNorms, RoBERTa's padding row) read by a plain-PyTorch mirror of
/// transformers' modeling_roberta.py / modeling_distilbert.py (tests/python/hf_mirror.py, dispatching on model_type and
/// architectures as AutoModel does): the same logits, within 1e-4, on a padded batch.
/// </summary>
[Collection(Training.SerialTorchGroup.Name)]
public sealed class FamilyMirrorTests
{
    private const float Tolerance = 1e-4f;

    [Fact]
    public void Saved_family_folders_compute_the_same_logits_in_python()
    {
        string root = TestTemp.NewDirectory("family-mirror");
        try
        {
            var requests = new JsonArray();
            var cases = new List<(string Name, float[][] Expected, bool[] Real)>();
            foreach (string modelType in new[] { "roberta", "xlm-roberta", "distilbert" })
            {
                int pad = modelType == "distilbert" ? 0 : 1;
                BertConfig config = TinyConfigs.Bert(vocab: 100, maxPositions: 40, act: modelType == "distilbert" ? "gelu" : "gelu_new") with
                {
                    ModelType = modelType,
                    PadTokenId = pad,
                    TypeVocabSize = modelType == "distilbert" ? 0 : 1,
                    LayerNormEps = modelType == "distilbert" ? 1e-12 : 1e-5,
                };

                // <s> ... </s> then padding; no id in the text equals the padding id.
                long[,] ids =
                {
                    { 0, 45, 12, 77, 9, 31, 2 },
                    { 0, 18, 64, 2, pad, pad, pad },
                    { 0, 99, 3, 56, 23, 2, pad },
                };
                long[,] mask =
                {
                    { 1, 1, 1, 1, 1, 1, 1 },
                    { 1, 1, 1, 1, 0, 0, 0 },
                    { 1, 1, 1, 1, 1, 1, 0 },
                };
                bool[] real = [.. mask.Cast<long>().Select(m => m == 1)];

                using (var model = MirrorRequests.WideSpread(new BertForSequenceClassification(config, ["a", "b", "c"]), 21))
                {
                    string folder = Path.Combine(root, $"{modelType}-seq");
                    model.SavePretrained(folder);
                    cases.Add(($"{modelType} sequence", MirrorRequests.Logits(model.Forward, ids, mask), [.. Enumerable.Repeat(true, 3)]));
                    requests.Add(MirrorRequests.Request(folder, "sequence-classification", ids, mask));
                }

                using (var model = MirrorRequests.WideSpread(new BertForTokenClassification(config, ["O", "B-X", "I-X", "B-Y"]), 22))
                {
                    string folder = Path.Combine(root, $"{modelType}-tok");
                    model.SavePretrained(folder);
                    cases.Add(($"{modelType} token", MirrorRequests.Logits(model.Forward, ids, mask), real));
                    requests.Add(MirrorRequests.Request(folder, "token-classification", ids, mask));
                }
            }

            string requestFile = Path.Combine(root, "requests.json");
            File.WriteAllText(requestFile, requests.ToJsonString());
            JsonArray results = JsonNode.Parse(PythonWithTorch.RunScript("hf_mirror.py", requestFile).Trim())!.AsArray();
            Assert.Equal(cases.Count, results.Count);
            for (int c = 0; c < cases.Count; c++)
            {
                float[][] python = [.. MirrorRequests.Rows(results[c]!["output"]!)];
                MirrorRequests.AssertClose($"{cases[c].Name}: Bert.Sharp vs Python", cases[c].Expected, python, cases[c].Real, Tolerance);
            }
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }
}
