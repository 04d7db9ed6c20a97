using Bert.Sharp.Hub;
using Bert.Sharp.Inference;

namespace Bert.Sharp;

// Loading a classifier for serving.
public sealed partial class TextClassifier
{
    /// <summary>
    /// <see cref="FromPretrained(string, TextClassifierOptions?)"/> that downloads asynchronously: a Hub model id is fetched into the shared
    /// cache without blocking the calling thread (cancellation and the Hub timeouts apply), then the local folder is loaded.
    /// </summary>
    /// <param name="directory">A local directory, or a Hugging Face model id.</param>
    /// <param name="options">Load options, as for the synchronous form; their <c>Hub</c> settings apply to the download.</param>
    /// <param name="cancellationToken">Cancels the download; a partial file is kept and resumed next time.</param>
    /// <returns>What the synchronous form returns.</returns>
    /// <exception cref="HubException">The model could not be fetched.</exception>
    public static Task<TextClassifier> FromPretrainedAsync(string directory, TextClassifierOptions? options = null, CancellationToken cancellationToken = default) =>
        PretrainedLoading.ResolveThenLoadAsync(directory, options?.Hub, resolved => FromPretrained(resolved, options), cancellationToken);

    /// <summary>
    /// Loads a fine-tuned classifier folder (config, weights and tokenizer files), as written by
    /// <see cref="BertTaskModel.SavePretrained(string, BertTokenizer?)"/> with a tokenizer, by <see cref="FineTuner"/>, or by
    /// Hugging Face's <c>save_pretrained</c>.
    /// </summary>
    /// <param name="directory">The model folder, or a hub model id.</param>
    /// <param name="options">Device, limits, logging.</param>
    /// <exception cref="FileNotFoundException">No config, weights or tokenizer files.</exception>
    /// <exception cref="ArgumentException"><see cref="InferenceOptions.Precision"/> is Float16 and the device is not CUDA.</exception>
    /// <exception cref="InvalidDataException">The folder holds a base model without a trained classification head, or a damaged file.</exception>
    public static TextClassifier FromPretrained(string directory, TextClassifierOptions? options = null) =>
        TrainedTaskLoading.Load(
            directory,
            "classifier",
            options,
            (resolved, loadOptions) => BertForSequenceClassification.FromPretrained(resolved, null, loadOptions),
            (model, encoder, validated) => new TextClassifier(model, encoder, validated));
}
