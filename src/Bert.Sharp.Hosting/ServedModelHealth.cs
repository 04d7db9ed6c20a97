namespace Bert.Sharp.Hosting;

/// <summary>One model's entry in the models health check's data (serialized as JSON by the health response writer).</summary>
internal sealed record ServedModelHealth(string Kind, string? Key, string Name, string Status, string Description, string? ModelDirectory, int? Labels, int? Dimensions,
    string Device, bool Batching, int QueueLength, int QueueCapacity, int InFlight, string? LastError, DateTimeOffset? LastErrorTime);
