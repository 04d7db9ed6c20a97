using Bert.Sharp.Adapters;
using Bert.Sharp.Hub;
using Bert.Sharp.Inference;

namespace Bert.Sharp;

/// <summary>
/// How the serving classes (<see cref="TextClassifier"/>, <see cref="TokenClassifier"/>) open a fine-tuned folder: the
/// task model, a refusal when the head is not trained, the tokenizer (the base's when an adapter folder has none; WordPiece,
/// byte-level BPE or Unigram, see <see cref="ServingTextEncoders"/>), then the serving object — with the model disposed whenever a later step fails.
/// </summary>
internal static class TrainedTaskLoading
{
    /// <summary>
    /// Loads <paramref name="directory"/> (a folder or a Hub model id) for serving, with <paramref name="options"/> (the
    /// defaults when <c>null</c>) validated first; the task model's loader gets their device, logging and attention kernel.
    /// </summary>
    /// <param name="directory">The folder or Hub model id.</param>
    /// <param name="what">What the folder must hold, for messages: "classifier", "token classifier".</param>
    /// <param name="options">The serving options; <c>null</c> for the defaults.</param>
    /// <param name="load">The task model's <c>FromPretrained</c>, without labels (a trained folder names its own).</param>
    /// <param name="serve">Builds the serving object over the model, tokenizer and validated options.</param>
    /// <exception cref="InvalidDataException">The folder holds no trained head (a base model), or the loader refused it as such.</exception>
    public static TServing Load<TModel, TOptions, TServing>(
        string directory,
        string what,
        TOptions? options,
        Func<string, ClassifierLoadOptions, TModel> load,
        Func<TModel, IServingTextEncoder, TOptions, TServing> serve)
        where TModel : BertTaskModel
        where TOptions : InferenceOptions, new()
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        TOptions given = options ?? new TOptions();
        given.Validate();
        ClassifierLoadOptions loadOptions = new()
        {
            Device = given.Device,
            LoggerFactory = given.LoggerFactory,
            AttentionImplementation = given.AttentionImplementation,
        };
        return Load(directory, what, given.Hub, loadOptions, given.PackWeights, load, (model, encoder) => serve(model, encoder, given));
    }

    private static TServing Load<TModel, TServing>(
        string directory,
        string what,
        PretrainedResolveOptions? hub,
        ClassifierLoadOptions loadOptions,
        bool packWeights,
        Func<string, ClassifierLoadOptions, TModel> load,
        Func<TModel, IServingTextEncoder, TServing> serve)
        where TModel : BertTaskModel
    {
        string resolved = PretrainedResolver.ResolveDirectory(directory, hub);
        string tokenizerSource = AdapterFolder.TokenizerSource(resolved, hub);
        TModel model;
        try
        {
            model = load(resolved, loadOptions);
        }
        catch (ArgumentException e)
        {
            // A base checkpoint loaded without labels: the loader asks for labels, which serving cannot give.
            throw new InvalidDataException($"'{resolved}' is not a trained {what}: {e.Message}", e);
        }

        try
        {
            if (model.LoadReport?.MissingKeys is { Count: > 0 } missing)
            {
                throw new InvalidDataException($"'{resolved}' is not a trained {what}: {string.Join(", ", missing)} are missing from its weights. Fine-tune it first (FineTuner) or load a fine-tuned folder.");
            }

            // The serving object owns the model: its linear weights take the layout that serves short texts faster on the CPU.
            Modeling.LinearWeightLayout.UseForServing(model, packWeights);

            // The folder's tokenizer, whatever its kind (WordPiece, byte-level BPE, Unigram); a subword one pads with the model's pad_token_id.
            return serve(model, ServingTextEncoders.Load(tokenizerSource, model.Bert.Config.PadTokenId, hub));
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
