using Bert.Sharp.Checkpoints;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>Loading from and saving to Hugging Face model directories.</summary>
public sealed partial class BertModel
{
    /// <summary>The attribute name of the base model inside Hugging Face task models (<c>bert.encoder...</c>).</summary>
    internal const string BasePrefix = "bert";

    /// <summary>
    /// Loads a pretrained BERT from a Hugging Face model directory (<c>config.json</c> plus <c>model.safetensors</c>,
    /// sharded safetensors or <c>pytorch_model.bin</c>). A task checkpoint (keys under <c>bert.</c>) loads too; its head is
    /// ignored. The pooler is built when the checkpoint has one. The model is returned in evaluation mode.
    /// </summary>
    /// <param name="directoryOrModelId">A local directory, or a model id the hub resolver can turn into one.</param>
    /// <param name="options">Device, dtype, strictness, logging; <c>null</c> for the defaults.</param>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist and cannot be resolved.</exception>
    /// <exception cref="FileNotFoundException">The directory has no <c>config.json</c> or no weights; the message names the files looked for.</exception>
    /// <exception cref="InvalidDataException">A file is malformed, or a strict load found a mismatch; the message names the key and shapes.</exception>
    public static BertModel FromPretrained(string directoryOrModelId, BertLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directoryOrModelId);
        options ??= new BertLoadOptions();
        (string directory, BertConfig config, Dictionary<string, Tensor> state) = PretrainedCheckpoint.Open(directoryOrModelId, options.AttnImplementation);
        try
        {
            bool hasPooler = PretrainedCheckpoint.HasPooler(state);
            var model = new BertModel(config, hasPooler);
            try
            {
                ILogger logger = options.LoggerFactory?.CreateLogger<BertModel>() ?? NullLogger<BertModel>.Instance;
                StateDictLoader.Load(model, state, BasePrefix, options.Strict, logger, directory);
                if (options.DType is ScalarType dtype)
                {
                    model.to(dtype);
                }

                if (options.Device is Device device)
                {
                    model.to(device);
                }

                model.eval();
                return model;
            }
            catch
            {
                model.Dispose();
                throw;
            }
        }
        finally
        {
            foreach (Tensor tensor in state.Values)
            {
                tensor.Dispose();
            }
        }
    }

    /// <summary>
    /// Writes the model as a Hugging Face directory: <c>config.json</c> and <c>model.safetensors</c> (keys without a prefix,
    /// contiguous CPU tensors in the parameters' dtype). Each file is written atomically; the directory is created.
    /// </summary>
    /// <param name="directory">The target directory; existing files of the same names are replaced.</param>
    public void SavePretrained(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory);
        Dictionary<string, Tensor> state = state_dict();
        CheckpointFiles.SaveStateDict(directory, state);
        (Config with { Architectures = [nameof(BertModel)] }).Save(Path.Combine(directory, "config.json"));
    }
}
