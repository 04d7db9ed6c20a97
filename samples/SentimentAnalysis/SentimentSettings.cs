namespace SentimentAnalysis;

/// <summary>What the command line asked for.</summary>
internal sealed record SentimentSettings
{
    public string? Model { get; init; }
    public string Data { get; init; } = "";
    public int TextColumn { get; init; }
    public int LabelColumn { get; init; } = 1;
    public bool HasHeader { get; init; }
    public string? TextColumnName { get; init; }
    public string? LabelColumnName { get; init; }
    public int Epochs { get; init; }
    public int BatchSize { get; init; }
    public double LearningRate { get; init; }
    public bool LearningRateGiven { get; init; }
    public int LoraRank { get; init; } = 8;
    public double LoraAlpha { get; init; } = 16;
    public string LoraTargets { get; init; } = "all";
    public string Policy { get; init; } = "top-layers";
    public int TopLayers { get; init; }
    public int MaxLength { get; init; }
    public string Output { get; init; } = "";
    public string Device { get; init; } = "auto";
    public int Seed { get; init; }
    public double TestFraction { get; init; }
    public bool Compare { get; init; }
    public bool ExportOnnx { get; init; }
    public bool Int8 { get; init; }
    public string Pooling { get; init; } = "auto";
    public string? LabelNames { get; init; }
    public string Precision { get; init; } = "fp32";
    public bool GradientCheckpointing { get; init; }
    public IReadOnlyList<string> Texts { get; init; } = [];
}
