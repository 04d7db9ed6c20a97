using ClassifierApi;
using Microsoft.AspNetCore.Builder;

namespace Bert.Sharp.Tests.Serving;

/// <summary>The ClassifierApi sample on Kestrel at 127.0.0.1 on a free port, and an HTTP client for it: real HTTP.</summary>
public sealed class ApiServer : IAsyncDisposable
{
    private ApiServer(WebApplication app)
    {
        App = app;
        Client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    public static async Task<ApiServer> StartAsync(string modelDirectory, IEnumerable<string>? arguments = null, Action<WebApplicationBuilder>? configure = null)
    {
        WebApplication app = ClassifierApiApp.Build(
            ["--urls", "http://127.0.0.1:0", "--model", modelDirectory, "--Logging:LogLevel:Default=Warning", .. arguments ?? []], configure);
        await app.StartAsync();
        return new ApiServer(app);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
