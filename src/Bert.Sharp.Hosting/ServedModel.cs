using Microsoft.Extensions.DependencyInjection;

namespace Bert.Sharp.Hosting;

/// <summary>
/// One model registered by <c>Add...</c> / <c>AddKeyed...</c>: what the start-up loader loads and the models health
/// check reports. Registered as a singleton instance per registration (enumerated as <c>IEnumerable&lt;ServedModel&gt;</c>).
/// </summary>
internal sealed class ServedModel(string kind, string? serviceKey, Type serviceType, Func<IServiceProvider, BertServiceOptions> options)
{
    /// <summary><c>text-classifier</c>, <c>token-classifier</c> or <c>sentence-embedder</c>.</summary>
    public string Kind => kind;

    /// <summary>The service key of a keyed registration; <c>null</c> for the default one.</summary>
    public string? ServiceKey => serviceKey;

    public BertServiceOptions Options(IServiceProvider services) => options(services);

    /// <summary>The served object (loading the model on first use).</summary>
    public object Resolve(IServiceProvider services) =>
        serviceKey is null ? services.GetRequiredService(serviceType) : services.GetRequiredKeyedService(serviceType, serviceKey);
}
