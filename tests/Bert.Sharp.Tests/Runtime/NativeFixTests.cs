using System.Text;

namespace Bert.Sharp.Tests.Runtime;

/// <summary>
/// The buildTransitive step that lets TorchSharp load on a libstdc++ older than GCC 13 rewrites only the copy in the
/// build output, never the NuGet cache.
/// </summary>
public class NativeFixTests
{
    private static readonly byte[] Gcc13Version = Encoding.ASCII.GetBytes("GLIBCXX_3.4.32");

    private static bool SystemHasGcc13LibStdCxx()
    {
        string[] candidates = ["/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6"];
        string? found = candidates.FirstOrDefault(File.Exists);
        return found is null || File.ReadAllBytes(found).AsSpan().IndexOf(Gcc13Version) >= 0;
    }

    private static int CountRequirement(string library)
    {
        // The version name appears in .dynstr once per string; a patched file names GLIBCXX_3.4.32 only in symbol
        // version strings of the form "symbol@GLIBCXX_3.4.32" (which are not requirements), so count bare strings.
        byte[] bytes = File.ReadAllBytes(library);
        int count = 0;
        for (int i = bytes.AsSpan().IndexOf(Gcc13Version); i >= 0;)
        {
            bool bare = i > 0 && bytes[i - 1] == 0;
            if (bare)
            {
                count++;
            }

            int next = bytes.AsSpan(i + 1).IndexOf(Gcc13Version);
            i = next < 0 ? -1 : i + 1 + next;
        }

        return count;
    }

    [Fact]
    public void Output_copy_is_patched_when_needed_and_the_nuget_cache_is_not_touched()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // The fix is a no-op elsewhere; nothing to check.
        }

        string output = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(output), $"{output} missing");
        string cache = Path.Combine(
            Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } custom ? custom : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"),
            "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(cache), $"{cache} missing");

        Assert.Equal(1, CountRequirement(cache));
        Assert.Equal(SystemHasGcc13LibStdCxx() ? 1 : 0, CountRequirement(output));
        Assert.Equal(new FileInfo(cache).Length, new FileInfo(output).Length);
    }
}
