using Bert.Sharp.Hub;
using Bert.Sharp.Checkpoints;
using Bert.Sharp.IO;
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
    /// What loading the checkpoint matched: keys the checkpoint lacked, keys it had that the model does not use (a task
    /// checkpoint's head, a pretraining head). <c>null</c> for a model built in code.
    /// </summary>
    public LoadReport? LoadReport { get; private set; }

    /// <summary>
    /// <see cref="FromPretrained(string, BertLoadOptions?)"/> that downloads asynchronously: a Hub model id is fetched into the shared
    /// cache without blocking the calling thread (cancellation and the Hub timeouts apply), then the local folder is loaded.
    /// </summary>
    /// <param name="directoryOrModelId">A local directory, or a Hugging Face model id.</param>
    /// <param name="options">Load options, as for the synchronous form; their <c>Hub</c> settings apply to the download.</param>
    /// <param name="cancellationToken">Cancels the download; a partial file is kept and resumed next time.</param>
    /// <returns>What the synchronous form returns.</returns>
    /// <exception cref="HubException">The model could not be fetched.</exception>
    public static Task<BertModel> FromPretrainedAsync(string directoryOrModelId, BertLoadOptions? options = null, CancellationToken cancellationToken = default) =>
        PretrainedLoading.ResolveThenLoadAsync(directoryOrModelId, options?.Hub, resolved => FromPretrained(resolved, options), cancellationToken);

    /// <summary>
    /// Loads a pretrained BERT from a Hugging Face model directory (<c>config.json</c> plus <c>model.safetensors</c>,
    /// sharded safetensors or <c>pytorch_model.bin</c>). A task checkpoint (keys under <c>bert.</c>) loads too; its head is
    /// ignored and reported in <see cref="LoadReport"/>. The pooler is built when the checkpoint has one. Every encoder weight
    /// must be in the checkpoint with the right shape — a checkpoint that would leave part of the encoder random is refused.
    /// The model is returned in evaluation mode.
    /// </summary>
    /// <param name="directoryOrModelId">A local directory, or a model id the hub resolver can turn into one.</param>
    /// <param name="options">Device, dtype, strictness, logging; <c>null</c> for the defaults.</param>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist and cannot be resolved.</exception>
    /// <exception cref="FileNotFoundException">The directory has no <c>config.json</c> or no weights; the message names the files looked for.</exception>
    /// <exception cref="InvalidDataException">A file is malformed, the config is not a BERT, or an encoder weight is missing or mis-shaped; the message names the keys.</exception>
    public static BertModel FromPretrained(string directoryOrModelId, BertLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directoryOrModelId);
        options ??= new BertLoadOptions();
        ILogger logger = options.LoggerFactory?.CreateLogger<BertModel>() ?? NullLogger<BertModel>.Instance;
        using PretrainedCheckpoint checkpoint = PretrainedCheckpoint.Open(directoryOrModelId, options.AttentionImplementation, logger, options.Hub);
        checkpoint.RequireFitsConfig(modelPrefix: null, options.AllowMissingWeights);
        var model = new BertModel(checkpoint.Config, checkpoint.HasPooler);
        return ModelLoadCompletion.Complete(model, options.Device, () =>
        {
            model.LoadReport = checkpoint.LoadInto(model, checkpoint.BasePrefix, expectedMissing: [], options.Strict, options.AllowMissingWeights, logger);
            if (options.DType is ScalarType dtype)
            {
                model.to(dtype);
            }
        });
    }

    /// <summary>
    /// Writes the model as a Hugging Face directory: <c>config.json</c> and <c>model.safetensors</c> (keys without a prefix,
    /// contiguous CPU tensors in the parameters' dtype), as one unit (see <see cref="BertTaskModel.SavePretrained(string, BertTokenizer?)"/>): other
    /// files in the folder are left alone, weight files this one supersedes are removed.
    /// </summary>
    /// <param name="directory">The target directory; created when missing.</param>
    /// <param name="tokenizer">Also writes the tokenizer files into the same save.</param>
    public void SavePretrained(string directory, BertTokenizer? tokenizer = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        using var scope = NewDisposeScope();
        var writer = new ModelFolderWriter(directory);
        CheckpointFiles.AddWeights(writer, directory, state_dict());
        writer.AddText("config.json", (Config with { Architectures = [Family.BaseArchitecture] }).ToJson());
        tokenizer?.AddFilesTo(writer);
        writer.Commit();
    }
}
