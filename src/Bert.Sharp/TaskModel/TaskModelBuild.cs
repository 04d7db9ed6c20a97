namespace Bert.Sharp;

/// <summary>What a task's loader built from a checkpoint, for <see cref="TaskModelLoading.Load"/> to finish.</summary>
/// <typeparam name="TModel">The task model.</typeparam>
/// <param name="Model">The untrained model (encoder and head) of the checkpoint's config.</param>
/// <param name="ExpectedMissing">Keys the checkpoint may lack (a new head), reported rather than refused.</param>
/// <param name="Prepare">Runs before the weights are loaded (a seeded new head, task settings); <c>null</c> for nothing.</param>
internal readonly record struct TaskModelBuild<TModel>(TModel Model, string[] ExpectedMissing, Action? Prepare = null)
    where TModel : BertTaskModel;
