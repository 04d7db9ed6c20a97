using Bert.Sharp.Adapters;
using Bert.Sharp.Checkpoints;
using Bert.Sharp.IO;
using static TorchSharp.torch;

namespace Bert.Sharp;

// Saving and loading for every task: the built-in tasks override them with their own formats; a task of your own inherits them.
public abstract partial class BertTaskModel
{
    /// <summary>
    /// Writes the model as a Hugging Face directory: <c>config.json</c> (<see cref="ConfigToSave"/>), <c>model.safetensors</c>
    /// (every parameter and buffer, by its state-dict name) and the tokenizer files when given — or, for a model holding LoRA
    /// adapters, the active adapter as PEFT's layout. Only this model's files are written (each atomically); other files in
    /// the folder are left alone.
    /// </summary>
    /// <param name="directory">The folder (created when missing).</param>
    /// <param name="tokenizer">The tokenizer to save beside the model; <c>null</c> for none.</param>
    public virtual void SavePretrained(string directory, BertTokenizer? tokenizer = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (Adapters.Any)
        {
            AdapterFolder.Save(Adapters, directory, tokenizer);
            return;
        }

        using var scope = NewDisposeScope();
        var writer = new ModelFolderWriter(directory);
        CheckpointFiles.AddWeights(writer, directory, state_dict());
        BertConfig config = ConfigToSave;
        writer.AddText("config.json", config.ToJson());
        AddTaskFiles(writer, config);
        tokenizer?.AddFilesTo(writer);
        writer.Commit();
    }

    /// <summary>
    /// What a built-in task writes beside its <c>config.json</c> (the Python modules a custom architecture needs, or the removal
    /// of stale ones; sentence-transformers' module files); nothing by default.
    /// </summary>
    /// <param name="writer">The save under way.</param>
    /// <param name="config">The config being saved (<see cref="ConfigToSave"/>).</param>
    internal virtual void AddTaskFiles(ModelFolderWriter writer, BertConfig config)
    {
    }

    /// <summary>
    /// The <c>config.json</c> the default <see cref="SavePretrained(string, BertTokenizer?)"/> writes: the encoder's config; override it to name your
    /// architecture (<c>Bert.Config with { Architectures = ["BertForQuestionAnswering"] }</c>) or record the head's settings.
    /// </summary>
    protected virtual BertConfig ConfigToSave => Bert.Config;

    /// <summary>
    /// Loads a task model of your own from a Hugging Face directory (or Hub model id): builds it with <paramref name="create"/>
    /// from the checkpoint's config, then loads the weights. A base checkpoint gives a new head (its keys are reported in
    /// <see cref="LoadReport"/>); a folder the model saved gives the trained one. Every encoder weight must be present with the
    /// right shape. Returned in evaluation mode, on <see cref="ModelLoadOptions.Device"/>.
    /// </summary>
    /// <typeparam name="TModel">The task model.</typeparam>
    /// <param name="directoryOrModelId">A local model directory or a Hub model id.</param>
    /// <param name="create">Builds the untrained model (encoder and head) of a config, e.g. <c>config =&gt; new MyTask(new BertModel(config, addPoolingLayer: false))</c>.</param>
    /// <param name="options">Device, logging, Hub settings, attention kernel, missing weights.</param>
    /// <exception cref="InvalidDataException">A file is malformed, the config is not a BERT, or an encoder weight is missing or mis-shaped.</exception>
    protected static TModel LoadPretrained<TModel>(string directoryOrModelId, Func<BertConfig, TModel> create, ClassifierLoadOptions? options = null)
        where TModel : BertTaskModel
    {
        ArgumentException.ThrowIfNullOrEmpty(directoryOrModelId);
        ArgumentNullException.ThrowIfNull(create);
        options ??= new ClassifierLoadOptions();
        bool allowMissing = options.AllowMissingWeights;
        return TaskModelLoading.Load(directoryOrModelId, options, allowMissing, (checkpoint, _) =>
        {
            TModel model = create(checkpoint.Config) ?? throw new InvalidOperationException($"The factory given to LoadPretrained returned no model for '{checkpoint.Directory}'.");
            return new TaskModelBuild<TModel>(model, model.HeadKeys());
        });
    }
}
