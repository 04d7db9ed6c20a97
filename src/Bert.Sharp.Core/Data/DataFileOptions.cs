namespace Bert.Sharp;

/// <summary>
/// How <see cref="LabeledDataset.Load"/> reads a TSV, CSV or JSON Lines file: which columns (or JSON keys) hold the
/// text, the optional second text and the label, and what kind of label it is.
/// </summary>
/// <remarks>
/// The defaults read a file with a header row and columns <c>text</c> and <c>label</c>. For a file without a header
/// (such as the UCI sentiment sentences, <c>text&lt;TAB&gt;label</c>), use <see cref="Headerless"/>: columns are then
/// named by their zero-based index (<c>"0"</c>, <c>"1"</c>, ...).
/// </remarks>
public sealed record DataFileOptions
{
    /// <summary>Whether the first row of a TSV/CSV file names the columns. Ignored for JSON Lines.</summary>
    public bool HasHeader { get; init; } = true;

    /// <summary>Column (or JSON key) of the text.</summary>
    public string TextColumn { get; init; } = "text";

    /// <summary>Column (or JSON key) of the second text of a pair; <c>null</c> for single texts.</summary>
    public string? TextPairColumn { get; init; }

    /// <summary>Column (or JSON key) of the label.</summary>
    public string LabelColumn { get; init; } = "label";

    /// <summary>What the label column holds.</summary>
    public ProblemType LabelKind { get; init; } = ProblemType.SingleLabelClassification;

    /// <summary>For multi-label files: the separator between labels in one cell (JSON Lines may use an array instead).</summary>
    public char MultiLabelSeparator { get; init; } = '|';

    /// <summary>The field delimiter: tab or a printable ASCII character other than <c>"</c> and <c>#</c>; <c>null</c> picks
    /// comma for <c>.csv</c> files and tab otherwise (<c>.tsv</c>, <c>.txt</c>).</summary>
    public char? Delimiter { get; init; }

    /// <summary>Skip rows whose text is empty or white space instead of failing on them.</summary>
    public bool SkipEmptyTexts { get; init; }

    /// <summary>Options for a headerless file whose text is in column <paramref name="textColumn"/> and label in <paramref name="labelColumn"/>.</summary>
    public static DataFileOptions Headerless(int textColumn = 0, int labelColumn = 1, int? textPairColumn = null) => new()
    {
        HasHeader = false,
        TextColumn = textColumn.ToString(System.Globalization.CultureInfo.InvariantCulture),
        LabelColumn = labelColumn.ToString(System.Globalization.CultureInfo.InvariantCulture),
        TextPairColumn = textPairColumn?.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
