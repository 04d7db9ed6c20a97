using System.Text.RegularExpressions;

namespace Bert.Sharp.Hub;

/// <summary>
/// Validation of everything that becomes part of a URL or a cache path: repository ids, revisions, file
/// names, ETags and commit hashes. Anything that comes from the user or the server goes through here before
/// it touches the network or the disk, so a hostile id or server cannot escape the cache folder.
/// </summary>
internal static partial class HubNames
{
    /// <summary>The longest repository name the Hub accepts (the part after the organisation).</summary>
    public const int MaxRepoNameLength = 96;

    /// <summary>Revision used when none is given.</summary>
    public const string DefaultRevision = "main";

    // Every pattern is anchored with \A and \z: in .NET, '$' also matches before a trailing '\n', so "^...$" would
    // accept "org/model\n" or "main\n" and carry the newline into a URL or a cache path.

    [GeneratedRegex(@"\A[A-Za-z0-9._-]+\z", RegexOptions.CultureInvariant)]
    private static partial Regex RepoPartRegex();

    [GeneratedRegex(@"\A[0-9a-f]{40}\z", RegexOptions.CultureInvariant)]
    private static partial Regex CommitRegex();

    [GeneratedRegex(@"\A[A-Za-z0-9._+-]{1,128}\z", RegexOptions.CultureInvariant)]
    private static partial Regex EtagRegex();

    [GeneratedRegex(@"\A[0-9a-f]{64}\z", RegexOptions.CultureInvariant)]
    private static partial Regex Sha256Regex();

    [GeneratedRegex(@"\A[0-9a-f]{40}\z", RegexOptions.CultureInvariant)]
    private static partial Regex Sha1Regex();

    /// <summary>Returns <c>null</c> when <paramref name="repoId"/> is a valid Hub model id, else the reason it is not.</summary>
    public static string? CheckRepoId(string? repoId)
    {
        if (string.IsNullOrEmpty(repoId))
        {
            return "it is empty";
        }

        string[] parts = repoId.Split('/');
        if (parts.Length > 2)
        {
            return "it has more than one '/' (expected 'name' or 'organization/name')";
        }

        foreach (string part in parts)
        {
            if (part.Length == 0)
            {
                return "it has an empty organization or name";
            }

            if (!RepoPartRegex().IsMatch(part))
            {
                return "only letters, digits, '-', '_' and '.' are allowed in 'organization/name'";
            }

            if (part.Contains("..", StringComparison.Ordinal) || part.Contains("--", StringComparison.Ordinal))
            {
                return "'..' and '--' are not allowed";
            }

            if (part[0] is '-' or '.' || part[^1] is '-' or '.')
            {
                return "a name cannot start or end with '-' or '.'";
            }
        }

        if (parts[^1].Length > MaxRepoNameLength)
        {
            return $"the name is longer than {MaxRepoNameLength} characters";
        }

        if (repoId.EndsWith(".git", StringComparison.OrdinalIgnoreCase))
        {
            return "it cannot end with '.git'";
        }

        return null;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the problem when the repository id is not valid.</summary>
    public static void ValidateRepoId(string? repoId, string paramName)
    {
        string? problem = CheckRepoId(repoId);
        if (problem is not null)
        {
            throw new ArgumentException($"'{repoId}' is not a valid Hugging Face model id: {problem}.", paramName);
        }
    }

    /// <summary>
    /// Validates a revision (branch, tag or commit). Conservative: segments of <c>[A-Za-z0-9._-]</c> separated by
    /// single '/', no segment starting with '.', no '..', at most 200 characters.
    /// </summary>
    public static void ValidateRevision(string revision, string paramName)
    {
        string? problem = null;
        if (revision.Length == 0)
        {
            problem = "it is empty";
        }
        else if (revision.Length > 200)
        {
            problem = "it is longer than 200 characters";
        }
        else
        {
            foreach (string segment in revision.Split('/'))
            {
                if (segment.Length == 0)
                {
                    problem = "it has an empty path segment";
                    break;
                }

                if (!RepoPartRegex().IsMatch(segment))
                {
                    problem = "only letters, digits, '-', '_', '.' and '/' are allowed";
                    break;
                }

                if (segment[0] == '.' || segment.Contains("..", StringComparison.Ordinal) || segment.EndsWith(".lock", StringComparison.Ordinal))
                {
                    problem = "a segment cannot start with '.', contain '..' or end with '.lock'";
                    break;
                }
            }
        }

        if (problem is not null)
        {
            throw new ArgumentException($"'{revision}' is not a valid revision: {problem}.", paramName);
        }
    }

    /// <summary>Returns <c>null</c> when <paramref name="fileName"/> is a safe relative path inside a repository, else the reason.</summary>
    public static string? CheckFileName(string? fileName)
    {
        if (string.IsNullOrEmpty(fileName))
        {
            return "it is empty";
        }

        if (fileName.Length > 1024)
        {
            return "it is longer than 1024 characters";
        }

        foreach (char c in fileName)
        {
            if (char.IsControl(c) || c is '\\' or ':' or '*' or '?' or '"' or '<' or '>' or '|')
            {
                return $"it contains the character U+{(int)c:X4}, which is not allowed in a file name";
            }
        }

        foreach (string segment in fileName.Split('/'))
        {
            if (segment.Length == 0)
            {
                return "it is absolute or has an empty path segment";
            }

            if (segment is "." or ".." || IsEncodedDotSegment(segment))
            {
                return "'.' and '..' segments (also percent-encoded, like '%2e%2e') are not allowed";
            }

            if (segment.Length > 255)
            {
                return "a path segment is longer than 255 characters";
            }
        }

        return null;
    }

    /// <summary>
    /// True for a segment that a server or proxy decoding percent-escapes would read as '.' or '..' (<c>%2e</c>,
    /// <c>.%2E</c>, <c>%252e%252e</c>, ...): refused so that no decoding step along the way can climb out of a folder.
    /// </summary>
    private static bool IsEncodedDotSegment(string segment)
    {
        string decoded = segment;
        for (int i = 0; i < 3 && decoded.Contains('%', StringComparison.Ordinal); i++)
        {
            decoded = Uri.UnescapeDataString(decoded);
        }

        return decoded is "." or "..";
    }

    /// <summary>Throws <see cref="ArgumentException"/> when the file name is not a safe relative path.</summary>
    public static void ValidateFileName(string? fileName, string paramName)
    {
        string? problem = CheckFileName(fileName);
        if (problem is not null)
        {
            throw new ArgumentException($"'{fileName}' is not a valid file name in a repository: {problem}.", paramName);
        }
    }

    /// <summary>True for a full 40-character lower-case hexadecimal commit hash.</summary>
    public static bool IsCommitHash(string value) => CommitRegex().IsMatch(value);

    /// <summary>True when an (unquoted) ETag is safe to use as a blob file name.</summary>
    public static bool IsSafeEtag(string value) => EtagRegex().IsMatch(value) && value is not "." and not "..";

    /// <summary>True when the ETag is a sha256 (Hub LFS files): the content can be verified against it.</summary>
    public static bool IsSha256(string etag) => Sha256Regex().IsMatch(etag);

    /// <summary>True when the ETag looks like a git blob sha1 (Hub regular files).</summary>
    public static bool IsSha1(string etag) => Sha1Regex().IsMatch(etag);

    /// <summary>
    /// Normalises an ETag header value as huggingface_hub does: drops a weak <c>W/</c> prefix and the quotes.
    /// </summary>
    public static string NormalizeEtag(string etag)
    {
        string value = etag.Trim();
        if (value.StartsWith("W/", StringComparison.Ordinal))
        {
            value = value[2..];
        }

        return value.Trim('"');
    }

    /// <summary>Cache folder name of a model repository, e.g. <c>models--google-bert--bert-base-uncased</c>.</summary>
    public static string RepoFolderName(string repoId) => "models--" + repoId.Replace("/", "--", StringComparison.Ordinal);

    /// <summary>Escapes each segment of a repository path for use in a URL, keeping the '/' separators.</summary>
    public static string EscapePath(string path) =>
        string.Join('/', path.Split('/').Select(Uri.EscapeDataString));

    /// <summary>True when the pattern uses glob characters (<c>*</c>, <c>?</c>).</summary>
    public static bool IsGlob(string pattern) => pattern.AsSpan().IndexOfAny('*', '?') >= 0;

    /// <summary>fnmatch-style match: <c>*</c> any run of characters (including '/'), <c>?</c> one character.</summary>
    public static bool GlobMatch(string pattern, string fileName)
    {
        // \A and \z, not ^ and $: '$' also matches before a final newline, so "x\n" would match the pattern "x".
        string regex = @"\A" + Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + @"\z";
        return Regex.IsMatch(fileName, regex, RegexOptions.CultureInvariant | RegexOptions.Singleline, TimeSpan.FromSeconds(1));
    }
}
