using System.Text.Json.Nodes;
using Bert.Sharp.Checkpoints;
using Bert.Sharp.Models;
using Bert.Sharp.Tests.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Onnx;

/// <summary>Test classes that share one <see cref="ExportedModelsFixture"/>.</summary>
[CollectionDefinition(Name)]
public sealed class ExportedModelsGroup : ICollectionFixture<ExportedModelsFixture>
{
    public const string Name = "Exported ONNX models";
}

/// <summary>
/// Saved folders of every kind the exporter writes, all on the real all-MiniLM-L6-v2 with seeded random heads, and
/// their float32 exports; made once per test run.
/// </summary>
public sealed class ExportedModelsFixture : IDisposable
{
    public static readonly string[] TokenLabels = ["O", "B-PRODUCT", "I-PRODUCT", "B-BRAND", "I-BRAND"];

    public ExportedModelsFixture()
    {
        Root = TestTemp.NewDirectory("onnx-export");
        // A private import: the shared cache may have been written by another version of the model package.
        // The model package's folder is also a sentence-transformers folder (modules.json), which the exporter exports as
        // an embedder; the plain-BERT cases use a copy without those files.
        BaseModel = PlainBertCopy(MiniLmModel.EnsureImported(Path.Combine(Root, MiniLmModel.Name)), Path.Combine(Root, "plain-bert"));
        PoolerClassifier = SaveClassifier("classifier-pooler", PoolingStrategy.Pooler, seed: 11);
        MeanClassifier = SaveClassifier("classifier-mean", PoolingStrategy.Mean, seed: 12);
        TokenClassifier = SaveTokenClassifier("token-classifier", seed: 13);
        Embedder = SaveEmbedder("embedder");
        foreach (string folder in new[] { PoolerClassifier, MeanClassifier, TokenClassifier, Embedder })
        {
            OnnxExporter.Export(folder, Path.Combine(folder, "model.onnx"));
        }

        BaseOnnx = Path.Combine(Root, "base", "model.onnx");
        OnnxExporter.Export(BaseModel, BaseOnnx);
    }

    public string Root { get; }

    /// <summary>The imported all-MiniLM-L6-v2 (a plain BertModel folder with a pooler).</summary>
    public string BaseModel { get; }

    /// <summary>The base model exported (in its own folder, with the tokenizer files copied next to it).</summary>
    public string BaseOnnx { get; }

    public string PoolerClassifier { get; }

    public string MeanClassifier { get; }

    public string TokenClassifier { get; }

    public string Embedder { get; }

    public void Dispose() => Directory.Delete(Root, recursive: true);

    /// <summary>A folder of its own for one test's export, deleted when the test disposes it (each export is 25-90 MB).</summary>
    public ScratchFolder NewScratch(string name) => new(Path.Combine(Root, $"{name}-{Guid.NewGuid():N}"));

    /// <summary>One test's export folder; <see cref="OnnxPath"/> is where its <c>model.onnx</c> goes.</summary>
    public sealed class ScratchFolder(string directory) : IDisposable
    {
        public string Directory { get; } = System.IO.Directory.CreateDirectory(directory).FullName;

        public string OnnxPath => Path.Combine(Directory, "model.onnx");

        public void Dispose() => TestTemp.TryDelete(Directory);
    }

    private static string PlainBertCopy(string source, string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (string file in Directory.EnumerateFiles(source))
        {
            string name = Path.GetFileName(file);
            if (name is "model.safetensors" && TryLink(file, Path.Combine(destination, name)))
            {
                continue; // 90 MB not written twice
            }

            if (name is not ("modules.json" or "sentence_bert_config.json" or "config_sentence_transformers.json"))
            {
                File.Copy(file, Path.Combine(destination, name));
            }
        }

        return destination;
    }

    private static bool TryLink(string target, string link)
    {
        try
        {
            File.CreateSymbolicLink(link, target);
            return true;
        }
        catch (IOException)
        {
            return false; // no symbolic links here (Windows without the privilege): copy instead
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    private string SaveClassifier(string name, PoolingStrategy pooling, int seed)
    {
        string dir = Path.Combine(Root, name);
        torch.manual_seed(seed);
        using var model = BertForSequenceClassification.FromPretrained(BaseModel, ["negative", "positive", "neutral"], new ClassifierLoadOptions { Pooling = pooling });
        using (no_grad())
        {
            // A head with weights large enough to give probabilities far from uniform.
            model.Head.Weight.normal_(0, 0.5);
            model.Head.Bias.normal_(0, 0.5);
        }

        model.SavePretrained(dir, BertTokenizer.FromPretrained(BaseModel));
        return dir;
    }

    // Until BertForTokenClassification exists in the core: the base weights under "bert." plus a classifier, and a config.
    private string SaveTokenClassifier(string name, int seed)
    {
        string dir = Path.Combine(Root, name);
        Directory.CreateDirectory(dir);
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach ((string key, Tensor tensor) in SafeTensors.Load(Path.Combine(BaseModel, "model.safetensors")))
            {
                state["bert." + key] = tensor;
            }

            var generator = new Generator((ulong)seed);
            state["classifier.weight"] = torch.randn([TokenLabels.Length, 384], generator: generator) * 0.5;
            state["classifier.bias"] = torch.randn([TokenLabels.Length], generator: generator) * 0.5;
            SafeTensors.Save(Path.Combine(dir, "model.safetensors"), state);
        }
        finally
        {
            foreach (Tensor t in state.Values)
            {
                t.Dispose();
            }
        }

        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(BaseModel, "config.json")))!.AsObject();
        config["architectures"] = new JsonArray("BertForTokenClassification");
        var id2label = new JsonObject();
        var label2id = new JsonObject();
        for (int i = 0; i < TokenLabels.Length; i++)
        {
            id2label[i.ToString(System.Globalization.CultureInfo.InvariantCulture)] = TokenLabels[i];
            label2id[TokenLabels[i]] = i;
        }

        config["id2label"] = id2label;
        config["label2id"] = label2id;
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString());
        CopyTokenizer(dir);
        return dir;
    }

    // A sentence-transformers folder: the base model + modules.json (Transformer, mean Pooling, Normalize).
    private string SaveEmbedder(string name)
    {
        string dir = Path.Combine(Root, name);
        Directory.CreateDirectory(Path.Combine(dir, "1_Pooling"));
        Directory.CreateDirectory(Path.Combine(dir, "2_Normalize"));
        File.Copy(Path.Combine(BaseModel, "config.json"), Path.Combine(dir, "config.json"));
        File.Copy(Path.Combine(BaseModel, "model.safetensors"), Path.Combine(dir, "model.safetensors"));
        CopyTokenizer(dir);
        File.WriteAllText(Path.Combine(dir, "modules.json"), """
            [
              {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
              {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
              {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}
            ]
            """);
        File.WriteAllText(Path.Combine(dir, "1_Pooling", "config.json"), """
            {"word_embedding_dimension": 384, "pooling_mode_cls_token": false, "pooling_mode_mean_tokens": true,
             "pooling_mode_max_tokens": false, "pooling_mode_mean_sqrt_len_tokens": false}
            """);
        return dir;
    }

    private void CopyTokenizer(string dir)
    {
        foreach (string file in new[] { "vocab.txt", "tokenizer_config.json", "special_tokens_map.json" })
        {
            File.Copy(Path.Combine(BaseModel, file), Path.Combine(dir, file), overwrite: true);
        }
    }
}
