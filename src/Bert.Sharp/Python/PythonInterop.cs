using System.Reflection;
using System.Text.Json;
using Bert.Sharp.IO;

namespace Bert.Sharp;

/// <summary>
/// What a saved folder needs so that Python's <c>transformers</c> computes the same numbers as Bert.Sharp, or refuses: for
/// heads Hugging Face has no class for (a sequence classifier on mean or [CLS] pooling), a custom <c>model_type</c> and the
/// Python code that implements it, referenced by <c>auto_map</c> for <c>trust_remote_code=True</c>.
/// </summary>
internal static class PythonInterop
{
    /// <summary>The <c>model_type</c> of folders that need Bert.Sharp's Python code.</summary>
    public const string ModelType = "bert_sharp";

    /// <summary>The config key of the Python classes to load.</summary>
    public const string AutoMapKey = "auto_map";

    /// <summary>The Python class of a sequence classifier with its own pooling.</summary>
    public const string SequenceClassificationClass = "BertSharpForSequenceClassification";

    private static readonly string[] ModuleFiles = ["configuration_bert_sharp.py", "modeling_bert_sharp.py"];

    /// <summary>The <c>auto_map</c> value: the config class and <paramref name="pythonClass"/> for the auto class <paramref name="autoClass"/>.</summary>
    public static JsonElement AutoMap(string autoClass, string pythonClass) => JsonSerializer.SerializeToElement(new Dictionary<string, string>
    {
        ["AutoConfig"] = "configuration_bert_sharp.BertSharpConfig",
        [autoClass] = $"modeling_bert_sharp.{pythonClass}",
    });

    /// <summary>Adds the Python modules to a save, or marks stale copies for deletion when the model does not need them.</summary>
    public static void AddModules(ModelFolderWriter writer, bool needed)
    {
        foreach (string file in ModuleFiles)
        {
            if (needed)
            {
                writer.AddText(file, Read(file));
            }
            else
            {
                writer.RemoveIfPresent(file);
            }
        }
    }

    private static string Read(string file)
    {
        using Stream stream = typeof(PythonInterop).Assembly.GetManifestResourceStream($"Bert.Sharp.Python.{file}")
            ?? throw new InvalidOperationException($"The embedded Python module {file} is missing from {typeof(PythonInterop).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
