using Bert.Sharp.IO;

namespace Bert.Sharp.Hub;

/// <summary>Which files of a repository to fetch online, and when a cached snapshot is complete enough offline.</summary>
internal abstract class FileSelection
{
    /// <summary>Picks the files to download from the repository's file list; throws when a required one is missing.</summary>
    public abstract IReadOnlyList<string> Select(string repoId, string revision, IReadOnlyList<string> repositoryFiles);

    /// <summary>
    /// Offline: the files to use from a cached snapshot, or <c>null</c> when it lacks a required one.
    /// </summary>
    /// <param name="isCached">Whether a file is in the snapshot (and its blob intact).</param>
    /// <param name="snapshotFiles">Every file the snapshot folder holds.</param>
    public abstract IReadOnlyList<string>? SelectCached(Func<string, bool> isCached, IReadOnlyList<string> snapshotFiles);

    /// <summary>
    /// True when a cached snapshot that satisfies <see cref="SelectCached"/> holds everything an online download
    /// would fetch (no open-ended pattern that the repository might match with more files).
    /// </summary>
    public abstract bool IsExplicit { get; }

    /// <summary>The wanted files, for messages.</summary>
    public abstract IReadOnlyList<string> Describe();

    public static FileSelection FromPatterns(IEnumerable<string>? patterns)
    {
        if (patterns is null)
        {
            return new PatternSelection(null);
        }

        var list = new List<string>();
        foreach (string pattern in patterns)
        {
            string? problem = HubNames.CheckFileName(pattern.Replace('*', 'x').Replace('?', 'x'));
            if (problem is not null)
            {
                throw new ArgumentException($"'{pattern}' is not a valid file name or pattern in a repository: {problem}.", nameof(patterns));
            }

            list.Add(pattern);
        }

        if (list.Count == 0)
        {
            throw new ArgumentException("The list of file names is empty; pass null to fetch every file.", nameof(patterns));
        }

        return new PatternSelection(list);
    }

    /// <summary>Explicit names and <c>*</c>/<c>?</c> globs; <c>null</c> means every file.</summary>
    private sealed class PatternSelection(IReadOnlyList<string>? patterns) : FileSelection
    {
        public override IReadOnlyList<string> Select(string repoId, string revision, IReadOnlyList<string> repositoryFiles)
        {
            if (patterns is null)
            {
                return repositoryFiles;
            }

            foreach (string name in patterns.Where(p => !HubNames.IsGlob(p)))
            {
                if (!repositoryFiles.Contains(name, StringComparer.Ordinal))
                {
                    throw new HubException(HubErrorKind.EntryNotFound,
                        $"'{repoId}' has no file '{name}' at revision '{revision}'. It has: {string.Join(", ", repositoryFiles)}.", repoId, name);
                }
            }

            return repositoryFiles.Where(f => patterns.Any(p => HubNames.IsGlob(p) ? HubNames.GlobMatch(p, f) : p == f)).ToList();
        }

        public override IReadOnlyList<string>? SelectCached(Func<string, bool> isCached, IReadOnlyList<string> snapshotFiles)
        {
            if (patterns is null)
            {
                return snapshotFiles.Where(isCached).ToList();
            }

            var result = new List<string>();
            foreach (string name in patterns.Where(p => !HubNames.IsGlob(p)))
            {
                if (!isCached(name))
                {
                    return null;
                }

                result.Add(name);
            }

            result.AddRange(snapshotFiles.Where(f => !result.Contains(f) && patterns.Any(p => HubNames.IsGlob(p) && HubNames.GlobMatch(p, f)) && isCached(f)));
            return result;
        }

        public override bool IsExplicit => patterns is not null && !patterns.Any(HubNames.IsGlob);

        public override IReadOnlyList<string> Describe() => patterns ?? ["the model's files"];
    }
}

/// <summary>
/// The files <c>FromPretrained</c> needs for a BERT: config, tokenizer files that exist, and one weights file —
/// <c>model.safetensors</c> when the repository has it, else <c>pytorch_model.bin</c>.
/// </summary>
internal sealed class PretrainedSelection : FileSelection
{
    public const string Config = FolderFileNames.Config;
    public const string Safetensors = FolderFileNames.SafeTensorsWeights;
    public const string PyTorchBin = FolderFileNames.PyTorchWeights;

    public static readonly IReadOnlyList<string> OptionalFiles =
        [FolderFileNames.Vocabulary, FolderFileNames.TokenizerConfig, FolderFileNames.SpecialTokensMap, FolderFileNames.TokenizerJson, FolderFileNames.AddedTokens];

    public override IReadOnlyList<string> Select(string repoId, string revision, IReadOnlyList<string> repositoryFiles)
    {
        bool Has(string name) => repositoryFiles.Contains(name, StringComparer.Ordinal);
        string listing = string.Join(", ", repositoryFiles);
        if (!Has(Config))
        {
            throw new HubException(HubErrorKind.EntryNotFound,
                $"'{repoId}' (revision '{revision}') has no {Config}, so it is not a transformers model this library can load. It has: {listing}.",
                repoId, Config);
        }

        string weights = Has(Safetensors) ? Safetensors : Has(PyTorchBin) ? PyTorchBin
            : throw new HubException(HubErrorKind.EntryNotFound,
                $"'{repoId}' (revision '{revision}') has neither {Safetensors} nor {PyTorchBin} " +
                $"(sharded checkpoints are not supported yet). It has: {listing}.",
                repoId, Safetensors);

        var files = new List<string> { Config };
        files.AddRange(OptionalFiles.Where(Has));
        files.Add(weights);
        return files;
    }

    public override IReadOnlyList<string>? SelectCached(Func<string, bool> isCached, IReadOnlyList<string> snapshotFiles)
    {
        if (!isCached(Config))
        {
            return null;
        }

        string? weights = isCached(Safetensors) ? Safetensors : isCached(PyTorchBin) ? PyTorchBin : null;
        if (weights is null)
        {
            return null;
        }

        var files = new List<string> { Config };
        files.AddRange(OptionalFiles.Where(isCached));
        files.Add(weights);
        return files;
    }

    /// <summary>
    /// Not explicit: which optional tokenizer files a repository has is only known online, and a cached snapshot made
    /// by Python's <c>AutoModel</c> may hold the weights but not <c>vocab.txt</c>.
    /// </summary>
    public override bool IsExplicit => false;

    public override IReadOnlyList<string> Describe() => [Config, $"{Safetensors} or {PyTorchBin}"];
}
