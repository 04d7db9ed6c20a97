namespace Bert.Sharp.Hosting;

/// <summary>
/// Where a served model runs, for health reports, without referencing TorchSharp or ONNX Runtime: a <c>Device</c>
/// property of the model or of its <c>Model</c> (Bert.Sharp's TorchSharp classes: <c>cpu</c>, <c>cuda:0</c>), else
/// <c>onnxruntime-cpu</c> for Bert.Sharp.Onnx's classes, else <c>unknown</c>.
/// </summary>
internal static class ModelDevice
{
    public static string Describe(object model)
    {
        try
        {
            object? device = model.GetType().GetProperty("Device")?.GetValue(model);
            if (device is null && model.GetType().GetProperty("Model")?.GetValue(model) is { } inner)
            {
                device = inner.GetType().GetProperty("Device")?.GetValue(inner);
            }

            if (device?.ToString() is { Length: > 0 } text)
            {
                return text;
            }
        }
        catch (System.Reflection.TargetInvocationException)
        {
            // A disposed model may refuse; the device is then unknown.
        }

        return model.GetType().Name.StartsWith("Onnx", StringComparison.Ordinal) ? "onnxruntime-cpu" : "unknown";
    }
}
