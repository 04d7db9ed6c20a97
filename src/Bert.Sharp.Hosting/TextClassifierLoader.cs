using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Bert.Sharp.Hosting;

/// <summary>
/// Loads the classifier while the host starts (when <see cref="TextClassifierServiceOptions.LoadOnStart"/>), so a
/// broken model folder fails the start with the loader's message, and the first request does not pay for loading.
/// </summary>
internal sealed class TextClassifierLoader(IServiceProvider services, IOptions<TextClassifierServiceOptions> options) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.LoadOnStart)
        {
            _ = services.GetRequiredService<ITextClassifier>();
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
