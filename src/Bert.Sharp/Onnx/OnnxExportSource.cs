using System.Text.Json;
using Bert.Sharp.Checkpoints;
using Bert.Sharp.IO;
using Bert.Sharp.Modeling;
using static TorchSharp.torch;

namespace Bert.Sharp.Onnx;

/// <summary>
/// A saved Hugging Face folder, read for export: which task it holds (from <c>config.json</c>'s <c>architectures</c> and
/// the files present), its config, labels, problem type and pooling, and its weights (float32 CPU tensors, owned here).
/// </summary>
internal sealed class OnnxExportSource : IDisposable
{
    /// <summary>Architectures whose folders are exported as sequence classifiers.</summary>
    private static readonly string[] SequenceArchitectures = ["BertForSequenceClassification", "BertSharpForSequenceClassification"];

    private const string TokenArchitecture = "BertForTokenClassification";
    private const string BaseArchitecture = "BertModel";

    private OnnxExportSource(string directory, BertConfig config, string architecture, OnnxExportTask task, Dictionary<string, Tensor> state)
    {
        Directory = directory;
        Config = config;
        Family = config.Family;
        Architecture = architecture;
        Task = task;
        State = state;
        string basePrefix = Family.BasePrefix + ".";
        Prefix = state.Keys.Any(k => k.StartsWith(basePrefix + "embeddings.", StringComparison.Ordinal)) ? basePrefix : string.Empty;
    }

    /// <summary>The encoder family (<c>config.json</c>'s <c>model_type</c>): key names, positions, token types and head.</summary>
    public EncoderFamily Family { get; }

    /// <summary>Whether the graph takes <c>token_type_ids</c>: BERT only; Optimum's RoBERTa, XLM-R and DistilBERT exports do not
    /// (RoBERTa's single token type is a constant row).</summary>
    public bool TakesTokenTypes => Family == EncoderFamily.Bert;

    /// <summary>The folder.</summary>
    public string Directory { get; }

    /// <summary>Its <c>config.json</c>.</summary>
    public BertConfig Config { get; }

    /// <summary>The architecture the graph implements (as written into the model's metadata).</summary>
    public string Architecture { get; }

    /// <summary>What the graph computes.</summary>
    public OnnxExportTask Task { get; }

    /// <summary>The weights by checkpoint key.</summary>
    public Dictionary<string, Tensor> State { get; }

    /// <summary><c>bert.</c> for task folders, empty for base-model keys.</summary>
    public string Prefix { get; }

    /// <summary>Whether the encoder's pooler is in the weights.</summary>
    public bool HasPooler => State.ContainsKey(Prefix + "pooler.dense.weight");

    /// <summary>Class names in class-index order (classification folders).</summary>
    public IReadOnlyList<string> Labels { get; private set; } = [];

    /// <summary>The problem type of a sequence classifier.</summary>
    public ProblemType ProblemType { get; private set; } = ProblemType.SingleLabelClassification;

    /// <summary>How one vector per text is made (sequence classifiers and sentence embedders).</summary>
    public OnnxPooling Pooling { get; private set; } = OnnxPooling.None;

    /// <summary>Whether the sentence embedding is L2-normalised.</summary>
    public bool Normalize { get; private set; }

    /// <summary>Reads <paramref name="directory"/>.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">No config.json or no weights; the message names the folder.</exception>
    /// <exception cref="NotSupportedException">An architecture or folder kind the exporter does not write (an unsupported model_type, a LoRA adapter without merged weights, ...).</exception>
    /// <exception cref="InvalidDataException">A file is malformed, or a weight is missing or of the wrong shape.</exception>
    public static OnnxExportSource Open(string directory)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"Model directory '{directory}' does not exist.");
        }

        string configPath = Path.Combine(directory, "config.json");
        bool hasWeights = CheckpointFiles.HasWeights(directory);
        if (File.Exists(Path.Combine(directory, "adapter_config.json")) && !hasWeights)
        {
            throw new NotSupportedException($"'{directory}' is a LoRA adapter folder (adapter_config.json) without merged weights; merge the adapter into the base model and save the full model before exporting.");
        }

        if (!File.Exists(configPath))
        {
            throw new FileNotFoundException($"No config.json in model directory '{directory}': looked for '{configPath}'.", configPath);
        }

        (string architecture, OnnxExportTask task) = Classify(directory, configPath);
        if (!hasWeights)
        {
            throw new FileNotFoundException($"No model weights in '{directory}': looked for model.safetensors, model.safetensors.index.json, pytorch_model.bin, pytorch_model.bin.index.json.", Path.Combine(directory, FolderFileNames.SafeTensorsWeights));
        }

        BertConfig config = BertConfig.Load(configPath);
        TorchRuntime.EnsureLoaded();
        Dictionary<string, Tensor> state = CheckpointFiles.LoadStateDict(directory);
        var source = new OnnxExportSource(directory, config, architecture, task, state);
        try
        {
            source.ReadTask(configPath);
            return source;
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    /// <summary>The weight <paramref name="key"/> (with <see cref="Prefix"/> for encoder keys) as row-major floats, checked against <paramref name="shape"/>.</summary>
    /// <exception cref="InvalidDataException">The key is missing or has another shape; the message names the folder and key.</exception>
    public float[] Weight(string key, params long[] shape)
    {
        Tensor tensor = Tensor(key, shape);
        return Runtime.HostRead.Values<float>(tensor);
    }

    /// <summary>The transposed 2-D weight <paramref name="key"/> (PyTorch [out, in] → MatMul's [in, out]) as row-major floats.</summary>
    public float[] TransposedWeight(string key, long outFeatures, long inFeatures)
    {
        using Tensor transposed = Runtime.TensorCopy.Transposed(Tensor(key, outFeatures, inFeatures));
        return Runtime.HostRead.Values<float>(transposed);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (Tensor tensor in State.Values)
        {
            tensor.Dispose();
        }

        State.Clear();
    }

    private Tensor Tensor(string key, params long[] shape)
    {
        if (!State.TryGetValue(key, out Tensor? tensor))
        {
            throw new InvalidDataException($"'{Directory}' is not a complete {Architecture} checkpoint: weight '{key}' was not found.");
        }

        if (!tensor.shape.SequenceEqual(shape))
        {
            throw new InvalidDataException($"'{Directory}': weight '{key}' has shape [{string.Join(", ", tensor.shape)}], but config.json implies [{string.Join(", ", shape)}].");
        }

        return tensor;
    }

    private static (string Architecture, OnnxExportTask Task) Classify(string directory, string configPath)
    {
        using JsonDocument document = ParseJson(configPath);
        JsonElement root = document.RootElement;
        string? modelType = root.TryGetProperty("model_type", out JsonElement mt) && mt.ValueKind == JsonValueKind.String ? mt.GetString() : null;
        string[] architectures = root.TryGetProperty("architectures", out JsonElement a) && a.ValueKind == JsonValueKind.Array
            ? [.. a.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!)]
            : [];
        EncoderFamily family = EncoderFamily.TryFromModelType(modelType ?? "bert")
            ?? throw new NotSupportedException($"'{configPath}': model_type '{modelType}' ({string.Join(", ", architectures)}) is not supported by the ONNX exporter (supported: {string.Join(", ", EncoderFamily.SupportedModelTypes)}).");
        string baseArchitecture = family == EncoderFamily.Bert ? BaseArchitecture : family.BaseArchitecture;
        string[] sequence = family == EncoderFamily.Bert ? SequenceArchitectures : [family.SequenceClassificationArchitecture];
        string token = family == EncoderFamily.Bert ? TokenArchitecture : family.TokenClassificationArchitecture;
        string? architecture = architectures.FirstOrDefault();
        if (architecture is null || architecture == baseArchitecture)
        {
            bool sentenceTransformers = File.Exists(Path.Combine(directory, "modules.json"));
            return (baseArchitecture, sentenceTransformers ? OnnxExportTask.SentenceEmbedding : OnnxExportTask.FeatureExtraction);
        }

        if (sequence.Contains(architecture))
        {
            return (architecture, OnnxExportTask.SequenceClassification);
        }

        if (architecture == token)
        {
            return (architecture, OnnxExportTask.TokenClassification);
        }

        throw new NotSupportedException($"'{directory}': architecture '{architecture}' (model_type '{family.ModelType}') is not supported by the ONNX exporter (supported: {baseArchitecture}, a sentence-transformers {baseArchitecture} folder, {string.Join(", ", sequence)}, {token}).");
    }

    private void ReadTask(string configPath)
    {
        switch (Task)
        {
            case OnnxExportTask.SequenceClassification:
                Labels = ReadLabels(Family.SequenceHead == SequenceHeadLayout.DenseTanhOutProjection ? "classifier.out_proj.weight" : "classifier.weight");
                ProblemType = ProblemTypes.FromConfigString(Config.ProblemType, Labels.Count);
                Pooling = ReadClassifierPooling(configPath);
                if (Pooling == OnnxPooling.Pooler && !HasPooler)
                {
                    throw new InvalidDataException($"'{Directory}' pools with the BERT pooler but its weights hold no '{Prefix}pooler.dense.weight'.");
                }

                break;
            case OnnxExportTask.TokenClassification:
                Labels = ReadLabels("classifier.weight");
                break;
            case OnnxExportTask.SentenceEmbedding:
                (Pooling, Normalize) = SentenceTransformerModules.Read(Directory);
                break;
        }
    }

    private List<string> ReadLabels(string headKey)
    {
        if (!State.TryGetValue(headKey, out Tensor? head) || head.shape.Length != 2)
        {
            throw new InvalidDataException($"'{Directory}' is a {Architecture} folder without a trained head: weight '{headKey}' [labels, hidden] was not found.");
        }

        int rows = (int)head.shape[0];
        if (Config.Id2Label is not { Count: > 0 } map)
        {
            return [.. Enumerable.Range(0, rows).Select(i => $"LABEL_{i}")];
        }

        if (map.Count != rows || Enumerable.Range(0, rows).Any(i => !map.ContainsKey(i)))
        {
            throw new InvalidDataException($"'{Directory}': config.json's id2label names {map.Count} labels (ids {string.Join(", ", map.Keys.Order())}) but the classifier weight has {rows} rows.");
        }

        return [.. Enumerable.Range(0, rows).Select(i => map[i])];
    }

    // classifier_pooling (or the older bert_sharp_pooling) names mean or cls pooling; without it, the pooler when there is one.
    private OnnxPooling ReadClassifierPooling(string configPath)
    {
        if (Family.SequenceHead == SequenceHeadLayout.PredictionHead)
        {
            // ModernBERT's classifier_pooling: the first token or the mean over real tokens.
            return ModernBertSettings.Read(Config).ClassifierPooling == "mean" ? OnnxPooling.Mean : OnnxPooling.Cls;
        }

        if (Family.SequenceHead != SequenceHeadLayout.Linear)
        {
            // RoBERTa's and DistilBERT's heads read the first token's state.
            return OnnxPooling.Cls;
        }

        foreach (string key in new[] { "classifier_pooling", "bert_sharp_pooling" })
        {
            if (Config.ExtensionData?.TryGetValue(key, out JsonElement value) == true)
            {
                return (value.ValueKind == JsonValueKind.String ? value.GetString() : null) switch
                {
                    "mean" => OnnxPooling.Mean,
                    "cls" => OnnxPooling.Cls,
                    "pooler" => OnnxPooling.Pooler,
                    _ => throw new InvalidDataException($"'{configPath}': {key} is {value}, not one of \"pooler\", \"mean\", \"cls\"."),
                };
            }
        }

        return HasPooler ? OnnxPooling.Pooler : OnnxPooling.Mean;
    }

    internal static JsonDocument ParseJson(string path)
    {
        try
        {
            return JsonDocument.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not valid JSON: {e.Message}", e);
        }
    }
}
