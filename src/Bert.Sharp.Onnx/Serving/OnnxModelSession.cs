using Bert.Sharp.Inference;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Bert.Sharp.Serving;

/// <summary>
/// One ONNX Runtime session of an exported BERT, shared by every thread (ONNX Runtime's <c>Run</c> is thread-safe), with
/// a disposal that waits for nobody and frees nothing in use: calls in flight keep the session alive, calls after
/// <see cref="Dispose"/> get an <see cref="ObjectDisposedException"/> naming the owner.
/// </summary>
internal sealed class OnnxModelSession : IDisposable
{
    private readonly InferenceSession session;
    private readonly Lock gate = new();
    private int active;
    private bool disposed;

    private OnnxModelSession(InferenceSession session, string path, Type owner, bool hasTokenTypes)
    {
        this.session = session;
        Path = path;
        Owner = owner;
        HasTokenTypes = hasTokenTypes;
        Metadata = session.ModelMetadata.CustomMetadataMap;
    }

    /// <summary>The .onnx file.</summary>
    public string Path { get; }

    /// <summary>The public type that owns the session, named by <see cref="ObjectDisposedException"/>.</summary>
    public Type Owner { get; }

    /// <summary>The model's <c>metadata_props</c>.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Whether the graph takes <c>token_type_ids</c>.</summary>
    public bool HasTokenTypes { get; }

    /// <summary>The declared shape of an output (-1 for dynamic axes).</summary>
    public int[] OutputShape(string name) => session.OutputMetadata[name].Dimensions;

    /// <summary>Whether the graph has the output <paramref name="name"/>.</summary>
    public bool HasOutput(string name) => session.OutputMetadata.ContainsKey(name);

    /// <summary>Opens <paramref name="path"/> and checks it is a BERT export with the inputs and outputs <paramref name="requiredOutputs"/>.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Not an ONNX model, or not a BERT export of the right kind; the message names the file and what is missing.</exception>
    public static OnnxModelSession Open(string path, OnnxClassifierOptions options, Type owner, IReadOnlyList<string> requiredOutputs, string expectedKind)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"ONNX model '{path}' does not exist; export one with OnnxExporter.Export (package Bert.Sharp).", path);
        }

        using var sessionOptions = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        if (options.IntraOpThreads is int threads)
        {
            sessionOptions.IntraOpNumThreads = threads;
        }

        InferenceSession session;
        try
        {
            (byte[] Model, int Weights)? reencoded = options.ReencodeInt8ForVnni && Int8KernelSupport.HasVnniKernels ? ReencodeForVnni(path) : null;
            session = reencoded is { } signed ? new InferenceSession(signed.Model, sessionOptions) : new InferenceSession(path, sessionOptions);
            if (reencoded is { } done && options.LoggerFactory?.CreateLogger(owner) is ILogger logger)
            {
                OnnxServingLog.ReencodedForVnni(logger, path, done.Weights);
            }
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"'{path}' could not be loaded by ONNX Runtime: {e.Message}", e);
        }

        try
        {
            foreach (string input in new[] { "input_ids", "attention_mask" })
            {
                if (!session.InputMetadata.TryGetValue(input, out NodeMetadata? metadata) || metadata.ElementDataType != TensorElementType.Int64 || metadata.Dimensions.Length != 2)
                {
                    throw new InvalidDataException($"'{path}' is not a BERT {expectedKind} export: it has no int64 [batch, sequence] input '{input}' (inputs: {Describe(session.InputMetadata)}).");
                }
            }

            string[] unknown = [.. session.InputMetadata.Keys.Where(k => k is not ("input_ids" or "attention_mask" or "token_type_ids"))];
            if (unknown.Length > 0)
            {
                throw new InvalidDataException($"'{path}' is not a BERT {expectedKind} export: it has inputs this runner does not feed ({string.Join(", ", unknown)}).");
            }

            foreach (string output in requiredOutputs)
            {
                if (!session.OutputMetadata.TryGetValue(output, out NodeMetadata? metadata) || metadata.ElementDataType != TensorElementType.Float)
                {
                    throw new InvalidDataException($"'{path}' is not a BERT {expectedKind} export: it has no float output '{output}' (outputs: {Describe(session.OutputMetadata)}).");
                }
            }

            var opened = new OnnxModelSession(session, path, owner, session.InputMetadata.ContainsKey("token_type_ids"));
            if (Int8KernelSupport.SignedProductsSaturate && Int8KernelSupport.SaturatingFormat(opened.Metadata) is string format)
            {
                ILogger logger = options.LoggerFactory?.CreateLogger(owner) ?? NullLogger.Instance;
                OnnxServingLog.SaturatingInt8(logger, path, format);
            }

            return opened;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    // Larger files (BERT-large's int8 export is about 330 MB) are loaded as they are: one buffer holds at most 2 GB, and
    // the file and its re-encoded copy are both in memory while the session loads.
    private const long MaxReencodedBytes = 1L << 30;

    // The file's weights as int8 for VNNI (SignedWeightEncoding), or null when it is not an int8 export with uint8 weights;
    // then ONNX Runtime loads the file from its path as usual (external data beside it included).
    private static (byte[] Model, int Weights)? ReencodeForVnni(string path)
    {
        try
        {
            using (FileStream file = File.OpenRead(path))
            {
                // The metadata first, skipping over the graph: a float32 file is not read twice.
                if (file.Length > MaxReencodedBytes || !SignedWeightEncoding.IsUnsignedWeightsExport(file))
                {
                    return null;
                }
            }

            return SignedWeightEncoding.Reencode(File.ReadAllBytes(path));
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            return null; // not a well-formed model, or not readable: ONNX Runtime's loading below says what is wrong
        }
    }

    /// <summary>Runs one padded batch and returns the requested outputs as flat row-major arrays.</summary>
    /// <exception cref="ObjectDisposedException">The owner was disposed.</exception>
    public Dictionary<string, float[]> Run(PaddedBatch batch, IReadOnlyList<string> outputs)
    {
        Enter();
        try
        {
            int[] dims = [batch.Size, batch.Length];
            var inputs = new List<NamedOnnxValue>(3)
            {
                NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(batch.InputIds, dims)),
                NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(batch.AttentionMask, dims)),
            };
            if (HasTokenTypes)
            {
                inputs.Add(NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(batch.TokenTypeIds, dims)));
            }

            using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results = session.Run(inputs, outputs);
            return results.ToDictionary(r => r.Name, r => r.AsTensor<float>().ToArray(), StringComparer.Ordinal);
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>Throws <see cref="ObjectDisposedException"/> when disposed.</summary>
    public void ThrowIfDisposed()
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, Owner);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (gate)
        {
            if (disposed)
            {
                return;
            }

            disposed = true;
            if (active > 0)
            {
                return;
            }
        }

        session.Dispose();
    }

    private void Enter()
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, Owner);

            active++;
        }
    }

    private void Exit()
    {
        bool release;
        lock (gate)
        {
            active--;
            release = disposed && active == 0;
        }

        if (release)
        {
            session.Dispose();
        }
    }

    private static string Describe(IReadOnlyDictionary<string, NodeMetadata> values) =>
        values.Count == 0 ? "none" : string.Join(", ", values.Select(v => $"{v.Key} {v.Value.ElementDataType} [{string.Join(", ", v.Value.Dimensions)}]"));
}
