namespace Bert.Sharp.Tests.Fuzzing;

/// <summary>
/// The fuzzers run alone, one after another: each measures the process's working set, which other tests running beside
/// it would disturb.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialFuzzGroup
{
    public const string Name = "Fuzzing";
}
