namespace Bert.Sharp;

/// <summary>What <see cref="OnnxExporter"/> does when an int8 export moves the scores more than <see cref="OnnxQualityCheck"/> allows.</summary>
public enum OnnxQualityAction
{
    /// <summary>Throw an <see cref="OnnxQualityException"/> naming the figures; the .onnx file is not written.</summary>
    Refuse,

    /// <summary>Log a warning naming the figures and write the file; the report says it failed.</summary>
    Warn,
}
