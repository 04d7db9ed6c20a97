namespace Bert.Sharp.Tests.TestSupport;

/// <summary>
/// The Python interpreter that has PyTorch (Debian's python3-torch: PyTorch 1.13, no transformers), for the tests that
/// prove a saved folder means the same thing in Python. ./test.sh (the README's test command) installs it; the tests fail (never skip) without it.
/// </summary>
internal static class PythonWithTorch
{
    private static readonly Lazy<string?> Found = new(() =>
    {
        foreach (string candidate in new[] { "/usr/bin/python3", "python3" })
        {
            try
            {
                (int code, _) = ProcessRunner.Run(candidate, ["-c", "import torch, numpy"], Path.GetTempPath(), TimeSpan.FromMinutes(2));
                if (code == 0)
                {
                    return candidate;
                }
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // not installed under this name
            }
        }

        return null;
    });

    /// <summary>The interpreter's path.</summary>
    /// <exception cref="InvalidOperationException">No python3 with torch is installed; the message says how to install it.</exception>
    public static string Path_ => Found.Value ?? throw new InvalidOperationException(
        "No python3 with PyTorch found (looked for /usr/bin/python3 and python3 importing torch and numpy). ./test.sh installs it (as root, with apt-get); or install it with: apt-get install -y python3-torch");

    /// <summary>Runs <c>tests/python/<paramref name="script"/></c> with <paramref name="arguments"/>; returns its standard output or fails with its output.</summary>
    public static string RunScript(string script, params string[] arguments)
    {
        (int code, string output) = ProcessRunner.Run(Path_, [RepositoryPaths.Combine("tests", "python", script), .. arguments], Path.GetTempPath(), TimeSpan.FromMinutes(10));
        if (code != 0)
        {
            throw new Xunit.Sdk.XunitException($"{script} exited with {code}:\n{output}");
        }

        return output;
    }
}
