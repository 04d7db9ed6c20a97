namespace Bert.Sharp.Tests.TestSupport;

/// <summary>Locates files of this repository from the test output folder.</summary>
internal static class RepositoryPaths
{
    private static readonly Lazy<string> RootLazy = new(() =>
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Bert.Sharp.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"Bert.Sharp.sln not found above {AppContext.BaseDirectory}.");
    });

    /// <summary>The folder that holds Bert.Sharp.sln.</summary>
    public static string Root => RootLazy.Value;

    /// <summary>A path under the repository root.</summary>
    public static string Combine(params string[] parts) => Path.Combine([Root, .. parts]);
}
