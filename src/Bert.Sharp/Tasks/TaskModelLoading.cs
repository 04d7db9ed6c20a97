using Bert.Sharp.Checkpoints;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>The common end of every task model's <c>FromPretrained</c>, once the task has built its model from the checkpoint's config.</summary>
internal static class TaskModelLoading
{
    /// <summary>
    /// Runs <paramref name="prepare"/> (a seeded new head, task settings), loads the checkpoint's weights into
    /// <paramref name="model"/> (what matched goes to <see cref="BertTaskModel.LoadReport"/>), moves it to
    /// <paramref name="device"/> and switches it to evaluation mode. The model is disposed when any step fails.
    /// </summary>
    /// <param name="model">The task model, built from the checkpoint's config.</param>
    /// <param name="checkpoint">The opened checkpoint.</param>
    /// <param name="source">What the caller asked to load (folder or Hub id), recorded as <see cref="BertTaskModel.BaseModelNameOrPath"/>.</param>
    /// <param name="expectedMissing">Keys the checkpoint may lack (a new head), reported rather than refused.</param>
    /// <param name="allowMissing">Whether other missing weights are tolerated (logged) instead of refused.</param>
    /// <param name="device">Where the model goes; <c>null</c> keeps it on the CPU.</param>
    /// <param name="logger">Receives what loading reports.</param>
    /// <param name="prepare">Runs before the weights are loaded.</param>
    public static TModel Finish<TModel>(TModel model, PretrainedCheckpoint checkpoint, string source, string[] expectedMissing, bool allowMissing, Device? device, ILogger logger, Action? prepare = null)
        where TModel : BertTaskModel
    {
        try
        {
            prepare?.Invoke();
            model.BaseModelNameOrPath = source;
            model.LoadReport = checkpoint.LoadInto(model, checkpoint.BasePrefix, expectedMissing, strict: false, allowMissing, logger);
            if (device is not null)
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
}
