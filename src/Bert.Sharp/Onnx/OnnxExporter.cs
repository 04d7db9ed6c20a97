using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Bert.Sharp.IO;
using Bert.Sharp.Onnx;
using Bert.Sharp.Onnx.Proto;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bert.Sharp;

/// <summary>
/// Writes a saved Hugging Face BERT folder as an ONNX model for serving with ONNX Runtime (for example through
/// <c>Bert.Sharp.Onnx</c>'s <c>OnnxTextClassifier</c>), in float32 or with int8 weights. Use it after training: it reads
/// the folder <see cref="BertTaskModel.SavePretrained(string, BertTokenizer?)"/> or <see cref="FineTuner"/> wrote, not a live model.
/// </summary>
/// <remarks>
/// <para>Folders exported: <c>BertModel</c> (outputs <c>last_hidden_state</c>, <c>pooler_output</c>),
/// <c>BertForSequenceClassification</c> and <c>BertSharpForSequenceClassification</c> (<c>logits</c>,
/// <c>probabilities</c> per text; pooler, mean or CLS pooling), <c>BertForTokenClassification</c> (<c>logits</c>,
/// <c>probabilities</c> per token), and sentence-transformers folders (<c>last_hidden_state</c>,
/// <c>sentence_embedding</c>, with the folder's pooling and normalisation). RoBERTa, XLM-RoBERTa and DistilBERT folders
/// (<c>model_type</c> <c>roberta</c>, <c>xlm-roberta</c>, <c>distilbert</c>) are exported likewise with their own heads and
/// key names, in float32 only, taking <c>input_ids</c> and <c>attention_mask</c> as Optimum's exports of them do (RoBERTa's
/// position ids are computed in the graph from the non-pad tokens, as transformers does).</para>
/// <para>Inputs are Hugging Face Optimum's: <c>input_ids</c>, <c>attention_mask</c>, <c>token_type_ids</c> (int64,
/// [batch_size, sequence_length], both axes dynamic). Labels, problem type, pooling and architecture are written into the
/// model's <c>metadata_props</c>. The float32 graph uses standard operators only, in the shape ONNX Runtime's optimizer
/// fuses into its Attention, SkipLayerNormalization and Gelu kernels. The file is written aside and renamed into place.</para>
/// </remarks>
public static partial class OnnxExporter
{
    /// <summary>Reading the source folder and building the graph need at most 2 GB per protobuf message (no external data).</summary>
    private const long MaxModelBytes = int.MaxValue - (16L << 20);

    /// <summary>Exports <paramref name="modelDirectory"/> to <paramref name="onnxPath"/>.</summary>
    /// <param name="modelDirectory">A saved model folder: <c>config.json</c> and weights (<c>model.safetensors</c> or <c>pytorch_model.bin</c>).</param>
    /// <param name="onnxPath">The .onnx file to write; an existing file is replaced.</param>
    /// <param name="options">Quantization and opset; <c>null</c> for float32, opset 17.</param>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">No <c>config.json</c> or no weights in the folder.</exception>
    /// <exception cref="NotSupportedException">The folder's architecture is not one the exporter writes (the message names it), or a LoRA adapter folder without merged weights.</exception>
    /// <exception cref="InvalidDataException">A file of the folder is malformed or a weight is missing or misshapen; the message names it.</exception>
    /// <exception cref="UnauthorizedAccessException">The .onnx file cannot be written; the message names it.</exception>
    /// <exception cref="IOException">The .onnx file cannot be written; the message names it.</exception>
    /// <exception cref="OnnxQualityException">An int8 export moved the scores more than <see cref="OnnxExportOptions.QualityCheck"/> allows (with <see cref="OnnxQualityAction.Refuse"/>); nothing was written.</exception>
    /// <returns>The quality report of an int8 export checked by <see cref="OnnxExportOptions.QualityCheck"/>; otherwise <c>null</c>.</returns>
    public static OnnxQualityReport? Export(string modelDirectory, string onnxPath, OnnxExportOptions? options = null) =>
        Export(modelDirectory, onnxPath, options, logger: null, CancellationToken.None);

    /// <inheritdoc cref="Export(string, string, OnnxExportOptions?)"/>
    /// <param name="modelDirectory">A saved model folder: <c>config.json</c> and weights.</param>
    /// <param name="onnxPath">The .onnx file to write; an existing file is replaced.</param>
    /// <param name="options">Quantization and opset; <c>null</c> for float32, opset 17.</param>
    /// <param name="logger">Receives what was exported (Information).</param>
    /// <param name="cancellationToken">Stops the export before the file is written; nothing half-written is left behind.</param>
    /// <returns>The quality report of an int8 export checked by <see cref="OnnxExportOptions.QualityCheck"/>; otherwise <c>null</c>.</returns>
    public static OnnxQualityReport? Export(string modelDirectory, string onnxPath, OnnxExportOptions? options, ILogger? logger, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDirectory);
        ArgumentException.ThrowIfNullOrEmpty(onnxPath);
        options ??= new OnnxExportOptions();
        options.Validate();
        logger ??= NullLogger.Instance;
        var watch = Stopwatch.StartNew();

        ModelProto model;
        ModelProto? reference = null;
        OnnxExportTask task;
        bool check = options.QualityCheck is not null && options.Quantization == OnnxQuantization.DynamicInt8;
        using (OnnxExportSource source = OnnxExportSource.Open(modelDirectory))
        {
            cancellationToken.ThrowIfCancellationRequested();
            model = BuildModel(source, options, cancellationToken);
            if (check)
            {
                reference = BuildModel(source, options with { Quantization = OnnxQuantization.None, UseOnnxRuntimeOperators = true }, cancellationToken);
            }

            task = source.Task;
        }

        long size = model.CalculateSize();
        if (size > MaxModelBytes)
        {
            throw new NotSupportedException($"'{modelDirectory}' exports to {size:N0} bytes, beyond the 2 GB a single ONNX file can hold; models this large need ONNX external data, which the exporter does not write.");
        }

        OnnxQualityReport? report = null;
        if (reference is not null)
        {
            report = CheckQuality(modelDirectory, reference, model, options.QualityCheck!, cancellationToken);
            if (!report.Passed)
            {
                if (options.QualityCheck!.OnFailure == OnnxQualityAction.Refuse)
                {
                    throw new OnnxQualityException(onnxPath, report);
                }

                LogQualityFailed(logger, onnxPath, report, report.WorstText);
            }
            else
            {
                LogQuality(logger, onnxPath, report);
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            AtomicFile.Write(onnxPath, model.WriteTo);
            if (options.CopyServingFiles)
            {
                CopyServingFiles(modelDirectory, Path.GetDirectoryName(Path.GetFullPath(onnxPath))!);
            }
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw new IOException($"Cannot write '{onnxPath}': {e.Message}", e);
        }

        LogExported(logger, modelDirectory, onnxPath, task, options.Quantization, size, watch.Elapsed.TotalSeconds);
        return report;
    }

    // Writes both graphs to a private temporary folder, scores the calibration texts with each, and compares.
    private static OnnxQualityReport CheckQuality(string modelDirectory, ModelProto float32, ModelProto int8, OnnxQualityCheck check, CancellationToken cancellationToken)
    {
        string folder = Directory.CreateTempSubdirectory("bert-sharp-onnx-check-").FullName;
        try
        {
            string float32Path = Path.Combine(folder, "model.float32.onnx"), int8Path = Path.Combine(folder, "model.int8.onnx");
            File.WriteAllBytes(float32Path, float32.ToByteArray());
            File.WriteAllBytes(int8Path, int8.ToByteArray());
            IReadOnlyList<float[]> expected = check.Scorer(modelDirectory, float32Path, check.Texts);
            cancellationToken.ThrowIfCancellationRequested();
            IReadOnlyList<float[]> actual = check.Scorer(modelDirectory, int8Path, check.Texts);
            return OnnxQualityReport.Compare(check.Texts, expected, actual, check);
        }
        finally
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
                // A scorer that still holds a file open on Windows; the temporary folder is left to the OS.
            }
            catch (UnauthorizedAccessException)
            {
                // Likewise.
            }
        }
    }

    private static ModelProto BuildModel(OnnxExportSource source, OnnxExportOptions options, CancellationToken cancellationToken)
    {
        var graph = new OnnxGraphBuilder(options.Opset);
        var linear = new OnnxLinearWriter(graph, source, options);
        bool modernBert = source.Family.LayerLayout == EncoderLayerLayout.ModernBert;
        BertEncoderGraphWriter? bertEncoder = modernBert ? null : new BertEncoderGraphWriter(graph, source, linear, fused: options.UseOnnxRuntimeOperators || options.Quantization == OnnxQuantization.DynamicInt8);
        const string InputIds = "input_ids", AttentionMask = "attention_mask", TokenTypeIds = "token_type_ids";
        // Optimum's inputs: token_type_ids for BERT only (its RoBERTa, XLM-R and DistilBERT exports take the other two).
        string[] inputs = source.TakesTokenTypes ? [InputIds, AttentionMask, TokenTypeIds] : [InputIds, AttentionMask];
        foreach (string input in inputs)
        {
            graph.Input(input, TensorProto.Types.DataType.Int64, "batch_size", "sequence_length");
        }

        bool hiddenIsOutput = source.Task is OnnxExportTask.FeatureExtraction or OnnxExportTask.SentenceEmbedding;
        string hiddenName = hiddenIsOutput ? TaskHeadGraphWriter.LastHiddenState : "/encoder/last_hidden_state";
        string hidden = bertEncoder is null
            ? new ModernBertEncoderGraphWriter(graph, source, linear).Encoder(InputIds, AttentionMask, hiddenName)
            : bertEncoder.Encoder(InputIds, AttentionMask, source.TakesTokenTypes ? TokenTypeIds : null, hiddenName);
        cancellationToken.ThrowIfCancellationRequested();
        new TaskHeadGraphWriter(graph, source, linear, bertEncoder).Write(hidden, AttentionMask);

        var model = new ModelProto
        {
            IrVersion = IrVersionFor(options.Opset),
            ProducerName = "Bert.Sharp",
            ProducerVersion = typeof(OnnxExporter).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0",
            DocString = $"{source.Architecture} exported by Bert.Sharp's OnnxExporter from '{Path.GetFileName(Path.GetFullPath(source.Directory).TrimEnd(Path.DirectorySeparatorChar))}'.",
            Graph = graph.Graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = options.Opset });
        if (graph.UsesMicrosoftDomain)
        {
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = OnnxGraphBuilder.MicrosoftDomain, Version = 1 });
        }

        foreach ((string key, string value) in Metadata(source, options))
        {
            model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        }

        return model;
    }

    private static IEnumerable<(string Key, string Value)> Metadata(OnnxExportSource source, OnnxExportOptions options)
    {
        yield return (OnnxMetadataKeys.Architecture, source.Architecture);
        yield return (OnnxMetadataKeys.Task, source.Task switch
        {
            OnnxExportTask.SequenceClassification => "text-classification",
            OnnxExportTask.TokenClassification => "token-classification",
            OnnxExportTask.SentenceEmbedding => "sentence-embedding",
            _ => "feature-extraction",
        });
        yield return (OnnxMetadataKeys.Quantization, options.Quantization == OnnxQuantization.DynamicInt8 ? "dynamic_int8" : "none");
        if (options.Quantization == OnnxQuantization.DynamicInt8)
        {
            yield return (OnnxMetadataKeys.Int8Format, options.Int8Format switch
            {
                OnnxInt8Format.SignedWeights => "signed_weights",
                OnnxInt8Format.ReducedRange => "reduced_range",
                OnnxInt8Format.Blockwise => "blockwise",
                _ => "unsigned_weights",
            });
        }

        // The longest input: RoBERTa's positions start after padding_idx, so it is max_position_embeddings - pad_token_id - 1.
        yield return (OnnxMetadataKeys.MaxPositionEmbeddings, source.Config.MaxSequenceLength.ToString(CultureInfo.InvariantCulture));
        if (source.Labels.Count > 0)
        {
            var map = source.Labels.Select((label, i) => (label, i)).ToDictionary(x => x.i.ToString(CultureInfo.InvariantCulture), x => x.label);
            yield return (OnnxMetadataKeys.Id2Label, JsonSerializer.Serialize(map));
        }

        if (source.Task == OnnxExportTask.SequenceClassification)
        {
            yield return (OnnxMetadataKeys.ProblemType, source.ProblemType.ToConfigString());
        }

        if (source.Pooling != OnnxPooling.None)
        {
            yield return (OnnxMetadataKeys.Pooling, source.Pooling.ToString().ToLowerInvariant());
        }

        if (source.Task == OnnxExportTask.SentenceEmbedding)
        {
            yield return (OnnxMetadataKeys.Normalize, source.Normalize ? "true" : "false");
        }
    }

    // The IR version that came with each opset's ONNX release (an older runtime refuses a newer IR).
    private static long IrVersionFor(int opset) => opset switch
    {
        <= 18 => 8,
        <= 20 => 9,
        _ => 10,
    };

    private static readonly string[] ServingFiles = ["config.json", "vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"];

    private static void CopyServingFiles(string modelDirectory, string targetDirectory)
    {
        string from = Path.GetFullPath(modelDirectory).TrimEnd(Path.DirectorySeparatorChar);
        if (string.Equals(from, targetDirectory.TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal))
        {
            return;
        }

        foreach (string name in ServingFiles)
        {
            string file = Path.Combine(from, name);
            if (File.Exists(file))
            {
                AtomicFile.Write(Path.Combine(targetDirectory, name), stream =>
                {
                    using FileStream input = File.OpenRead(file);
                    input.CopyTo(stream);
                });
            }
        }
    }

    [LoggerMessage(EventId = 21, Level = LogLevel.Information, Message = "int8 export '{OnnxPath}' against float32 on the calibration texts: {Report}")]
    private static partial void LogQuality(ILogger logger, string onnxPath, OnnxQualityReport report);

    [LoggerMessage(EventId = 22, Level = LogLevel.Warning, Message = "int8 export '{OnnxPath}' fails the quality check and is written anyway (OnFailure = Warn): {Report}; worst text: {WorstText}")]
    private static partial void LogQualityFailed(ILogger logger, string onnxPath, OnnxQualityReport report, string worstText);

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "Exported '{ModelDirectory}' to '{OnnxPath}' ({Task}, quantization {Quantization}, {Bytes} bytes) in {Seconds:F1} s")]
    private static partial void LogExported(ILogger logger, string modelDirectory, string onnxPath, OnnxExportTask task, OnnxQuantization quantization, long bytes, double seconds);
}
