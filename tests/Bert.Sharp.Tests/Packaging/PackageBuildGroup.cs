namespace Bert.Sharp.Tests.Packaging;

/// <summary>
/// The package test builds the sources, packs them and builds and runs a new app (about 1.2 GB on disk at its peak, with
/// libtorch copied into the app): it runs alone, so its disk use never adds to that of the ONNX export fixture or the
/// other tests that save models (a CI machine's small /tmp), and its builds do not slow them.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PackageBuildGroup
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Package build";
}
