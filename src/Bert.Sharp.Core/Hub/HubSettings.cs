namespace Bert.Sharp.Hub;

/// <summary>
/// <see cref="HubClientOptions"/> with every default filled in from the environment, the way huggingface_hub
/// (Python) reads it, so both libraries agree on endpoint, token, cache folder and offline mode.
/// </summary>
internal sealed record HubSettings(Uri Endpoint, string? Token, string CacheDirectory, bool Offline)
{
    public const string DefaultEndpoint = "https://huggingface.co";

    public static HubSettings Resolve(HubClientOptions options)
    {
        Func<string, string?> env = options.EnvironmentVariables ?? Environment.GetEnvironmentVariable;

        Uri endpoint = options.Endpoint ?? ParseEndpoint(NonEmpty(env("HF_ENDPOINT")) ?? DefaultEndpoint);
        if (!endpoint.IsAbsoluteUri || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"The Hub endpoint '{endpoint}' must be an absolute http or https address.", nameof(options));
        }

        string home = HfHome(env);
        string cache = options.CacheDirectory
            ?? ExpandHome(NonEmpty(env("HF_HUB_CACHE")))
            ?? ExpandHome(NonEmpty(env("HUGGINGFACE_HUB_CACHE")))
            ?? Path.Combine(home, "hub");

        bool offline = options.Offline ?? (IsTrue(env("HF_HUB_OFFLINE")) || IsTrue(env("TRANSFORMERS_OFFLINE")));

        string? token = options.Token;
        if (token is null && options.UseStoredToken)
        {
            token = NonEmpty(env("HF_TOKEN")) ?? NonEmpty(env("HUGGING_FACE_HUB_TOKEN")) ?? ReadTokenFile(
                ExpandHome(NonEmpty(env("HF_TOKEN_PATH"))) ?? Path.Combine(home, "token"));
        }

        return new HubSettings(endpoint, NonEmpty(token?.Trim()), Path.GetFullPath(cache), offline);
    }

    /// <summary><c>HF_HOME</c>, else <c>$XDG_CACHE_HOME/huggingface</c>, else <c>~/.cache/huggingface</c>.</summary>
    private static string HfHome(Func<string, string?> env) =>
        ExpandHome(NonEmpty(env("HF_HOME")))
        ?? Path.Combine(ExpandHome(NonEmpty(env("XDG_CACHE_HOME"))) ?? Path.Combine(UserHome(), ".cache"), "huggingface");

    private static Uri ParseEndpoint(string value) =>
        Uri.TryCreate(value.TrimEnd('/'), UriKind.Absolute, out Uri? uri)
            ? uri
            : throw new ArgumentException($"HF_ENDPOINT '{value}' is not an absolute URL.");

    /// <summary>Python's <c>_is_true</c>: 1, ON, YES, TRUE in any case.</summary>
    internal static bool IsTrue(string? value) =>
        value is not null && value.Trim().ToUpperInvariant() is "1" or "ON" or "YES" or "TRUE";

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static string UserHome() => Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

    private static string? ExpandHome(string? path)
    {
        if (path is null)
        {
            return null;
        }

        if (path == "~")
        {
            return UserHome();
        }

        return path.StartsWith("~/", StringComparison.Ordinal) || path.StartsWith("~\\", StringComparison.Ordinal)
            ? Path.Combine(UserHome(), path[2..])
            : path;
    }

    private static string? ReadTokenFile(string path)
    {
        try
        {
            return File.Exists(path) ? NonEmpty(File.ReadAllText(path).Trim()) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
