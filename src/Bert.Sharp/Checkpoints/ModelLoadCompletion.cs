using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Checkpoints;

/// <summary>The common end of every <c>FromPretrained</c> (encoder and task models): load, move, evaluation mode — or dispose.</summary>
internal static class ModelLoadCompletion
{
    /// <summary>
    /// Runs <paramref name="load"/> (the weights into <paramref name="model"/>, and whatever the caller does before moving it),
    /// moves the model to <paramref name="device"/> and switches it to evaluation mode. The model is disposed when any step fails.
    /// </summary>
    /// <typeparam name="TModel">The module loaded.</typeparam>
    /// <param name="model">The model, built from the checkpoint's config.</param>
    /// <param name="device">Where the model goes; <c>null</c> keeps it where it is.</param>
    /// <param name="load">Loads the weights (and sets what loading reports).</param>
    public static TModel Complete<TModel>(TModel model, Device? device, Action load)
        where TModel : nn.Module
    {
        try
        {
            load();
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
