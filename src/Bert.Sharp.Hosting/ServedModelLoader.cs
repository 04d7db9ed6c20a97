using Microsoft.Extensions.Hosting;

namespace Bert.Sharp.Hosting;

/// <summary>
/// Loads every registered model whose options say <see cref="BertServiceOptions.LoadOnStart"/> while the host starts,
/// so a broken model folder fails the start with the loader's message, and the first request does not pay for loading.
/// </summary>
internal sealed class ServedModelLoader(IServiceProvider services, IEnumerable<ServedModel> models) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (ServedModel model in models)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (model.Options(services).LoadOnStart)
            {
                _ = model.Resolve(services);
            }
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
