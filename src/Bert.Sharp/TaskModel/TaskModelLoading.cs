using Bert.Sharp.Checkpoints;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bert.Sharp;

/// <summary>
/// The one loading path of every task model's <c>FromPretrained</c>: the checkpoint is opened (the folder resolved) once, the
/// task builds its model from it, then the weights are loaded, the model moved and switched to evaluation mode.
/// </summary>
internal static class TaskModelLoading
{
    /// <summary>
    /// Opens <paramref name="directoryOrModelId"/>, checks that every encoder weight is there with its config's shape, lets
    /// <paramref name="build"/> check the rest of the checkpoint and build the task model
    /// (its head, the keys the checkpoint may lack, what runs before the weights load), then loads the weights into it (what
    /// matched goes to <see cref="BertTaskModel.LoadReport"/>), moves it to the options' device and switches it to evaluation
    /// mode. The model is disposed when any step after <paramref name="build"/> fails.
    /// </summary>
    /// <typeparam name="TModel">The task model.</typeparam>
    /// <param name="directoryOrModelId">What the caller asked to load (folder or Hub id), recorded as <see cref="BertTaskModel.BaseModelNameOrPath"/>.</param>
    /// <param name="options">Device, logging, Hub settings, attention kernel.</param>
    /// <param name="allowMissing">Whether missing weights other than the head's are tolerated (logged) instead of refused.</param>
    /// <param name="build">The task's part: checks the checkpoint (dropping another task's head), builds the model.</param>
    public static TModel Load<TModel>(string directoryOrModelId, ModelLoadOptions options, bool allowMissing, Func<PretrainedCheckpoint, ILogger, TaskModelBuild<TModel>> build)
        where TModel : BertTaskModel
    {
        ILogger logger = options.LoggerFactory?.CreateLogger<TModel>() ?? NullLogger<TModel>.Instance;
        using PretrainedCheckpoint checkpoint = PretrainedCheckpoint.Open(directoryOrModelId, options.AttentionImplementation, logger, options.Hub);
        checkpoint.RequireFitsConfig(checkpoint.BasePrefix, allowMissing);
        (TModel model, string[] expectedMissing, Action? prepare) = build(checkpoint, logger);
        return ModelLoadCompletion.Complete(model, options.Device, () =>
        {
            prepare?.Invoke();
            model.BaseModelNameOrPath = directoryOrModelId;
            model.LoadReport = checkpoint.LoadInto(model, checkpoint.BasePrefix, expectedMissing, strict: false, allowMissing, logger);
        });
    }

    /// <summary>
    /// The loading path of a task whose head is sized by its labels (sequence and token classification): a PEFT adapter folder
    /// goes to <paramref name="fromAdapterFolder"/> (which loads the base it names through this path again); any other folder
    /// or Hub id is opened once and <paramref name="build"/> makes the model (see <see cref="Load"/>); with
    /// <see cref="ClassifierLoadOptions.Seed"/> the new head is initialised from that seed before the weights load.
    /// </summary>
    /// <typeparam name="TModel">The task model.</typeparam>
    /// <param name="directoryOrModelId">A local model directory, an adapter folder or a Hub model id.</param>
    /// <param name="labels">The labels the caller gave; <c>null</c> for the checkpoint's own.</param>
    /// <param name="options">The load options; <c>null</c> for the defaults.</param>
    /// <param name="fromAdapterFolder">Opens an adapter folder with the task facts it records.</param>
    /// <param name="build">Checks the checkpoint, chooses the labels and builds the model.</param>
    public static TModel LoadLabeled<TModel>(
        string directoryOrModelId,
        IReadOnlyList<string>? labels,
        ClassifierLoadOptions? options,
        Func<string, IReadOnlyList<string>?, ClassifierLoadOptions, TModel> fromAdapterFolder,
        Func<PretrainedCheckpoint, ILogger, IReadOnlyList<string>?, ClassifierLoadOptions, TaskModelBuild<TModel>> build)
        where TModel : BertTaskModel, ISeededHead
    {
        ArgumentException.ThrowIfNullOrEmpty(directoryOrModelId);
        ClassifierLoadOptions given = options ?? new ClassifierLoadOptions();
        return Adapters.AdapterFolder.Is(directoryOrModelId)
            ? fromAdapterFolder(directoryOrModelId, labels, given)
            : Load(directoryOrModelId, given, given.AllowMissingWeights, (checkpoint, logger) =>
            {
                TaskModelBuild<TModel> built = build(checkpoint, logger, labels, given);
                double initializerRange = checkpoint.Config.InitializerRange;
                if (given.Seed is not int seed)
                {
                    return built;
                }

                // After whatever the task prepares itself, so the seeded head is the one the weights load into.
                return built with
                {
                    Prepare = () =>
                    {
                        built.Prepare?.Invoke();
                        built.Model.ResetHead(initializerRange, seed);
                    },
                };
            });
    }
}
