namespace Bert.Sharp.Tests.Reliability;

/// <summary>
/// <see cref="GcPressureTests"/> run alone, after the parallel collections: their collecting thread would put every test
/// running beside them under the same pressure, including test code that makes temporaries freely.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GcPressureGroup
{
    public const string Name = "GC pressure";
}
