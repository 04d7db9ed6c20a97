namespace Bert.Sharp;

/// <summary>
/// An int8 export moved the scores more than <see cref="OnnxQualityCheck"/> allows and
/// <see cref="OnnxQualityCheck.OnFailure"/> is <see cref="OnnxQualityAction.Refuse"/>; nothing was written.
/// </summary>
public sealed class OnnxQualityException : InvalidOperationException
{
    /// <summary>Creates the exception for <paramref name="report"/>.</summary>
    /// <param name="onnxPath">The file that was not written.</param>
    /// <param name="report">The figures.</param>
    public OnnxQualityException(string onnxPath, OnnxQualityReport report)
        : base(report is null ? $"Refused to write the int8 export '{onnxPath}'." : $"Refused to write the int8 export '{onnxPath}': against the float32 export on the calibration texts, {report}. " +
            $"Worst text: \"{Shorten(report?.WorstText)}\". Keep more layers in float32 (OnnxExportOptions.Float32Modules), export float32, or loosen the check.") =>
        Report = report;

    /// <summary>Creates the exception with a message only.</summary>
    public OnnxQualityException()
        : this("The int8 export moved the scores more than the quality check allows.")
    {
    }

    /// <summary>Creates the exception with a message only.</summary>
    /// <param name="message">The message.</param>
    public OnnxQualityException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public OnnxQualityException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The figures that failed the check (<c>null</c> when created from a message only).</summary>
    public OnnxQualityReport? Report { get; }

    private static string Shorten(string? text) => text is null ? string.Empty : text.Length <= 80 ? text : text[..77] + "...";
}
