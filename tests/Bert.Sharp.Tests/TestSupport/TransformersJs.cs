using System.Text.Json;

namespace Bert.Sharp.Tests.TestSupport;

/// <summary>
/// Hugging Face's transformers.js (npm <c>@huggingface/transformers</c>, pinned in tests/js/package.json, run by Node.js)
/// loading a model folder as a JavaScript user would: its <c>AutoTokenizer</c> from the tokenizer files and its
/// <c>AutoModelFor…</c> from <c>onnx/model.onnx</c>. ./test.sh (the README's test command) installs the package with
/// <c>npm ci</c>; the tests fail (never skip) without it.
/// </summary>
internal static class TransformersJs
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private static string ScriptFolder => RepositoryPaths.Combine("tests", "js");

    /// <summary>Runs tests/js/transformers-js-score.mjs on <paramref name="folder"/>: ids and probabilities (or embeddings) per text.</summary>
    /// <param name="folder">A model folder in Optimum's layout (config and tokenizer files, <c>onnx/model.onnx</c>).</param>
    /// <param name="task"><c>sequence-classification</c>, <c>token-classification</c> or <c>feature-extraction</c> (mean-pooled, normalised embeddings in <see cref="Result.Probabilities"/>).</param>
    /// <param name="texts">The texts, each run alone and all together as one padded batch.</param>
    /// <param name="dtype"><c>fp32</c> (<c>onnx/model.onnx</c>) or <c>q8</c> (<c>onnx/model_quantized.onnx</c>).</param>
    public static Result Score(string folder, string task, IReadOnlyList<string> texts, string dtype = "fp32")
    {
        if (!Directory.Exists(Path.Combine(ScriptFolder, "node_modules", "@huggingface", "transformers")))
        {
            throw new InvalidOperationException(
                $"transformers.js is not installed in {ScriptFolder}. ./test.sh installs it; or run: cd tests/js && npm ci --ignore-scripts (needs Node.js 18+ and the npm registry).");
        }

        string work = TestTemp.NewDirectory("transformers-js");
        try
        {
            string request = Path.Combine(work, "request.json");
            string result = Path.Combine(work, "result.json");
            File.WriteAllText(request, JsonSerializer.Serialize(new { folder, task, dtype, texts }));
            (int code, string output) = ProcessRunner.Run("node", [Path.Combine(ScriptFolder, "transformers-js-score.mjs"), request, result], ScriptFolder, TimeSpan.FromMinutes(5));
            if (code != 0)
            {
                throw new Xunit.Sdk.XunitException($"transformers-js-score.mjs exited with {code}:\n{output}");
            }

            return JsonSerializer.Deserialize<Result>(File.ReadAllText(result), Json)
                ?? throw new Xunit.Sdk.XunitException("transformers-js-score.mjs wrote no result");
        }
        finally
        {
            Directory.Delete(work, true);
        }
    }

    /// <summary>What transformers.js computed.</summary>
    /// <param name="Tokenizer">The tokenizer class it chose (from tokenizer_config.json).</param>
    /// <param name="Ids">Ids with special tokens, per text.</param>
    /// <param name="Probabilities">Softmax of the logits per text ([labels], or [tokens × labels] flattened); for feature extraction, the embedding.</param>
    /// <param name="BatchProbabilities">The same from one padded batch of all texts (real tokens only).</param>
    /// <param name="Pipeline">The text-classification pipeline's labels and scores per text (sequence classification only).</param>
    internal sealed record Result(
        string Tokenizer,
        int[][] Ids,
        double[][] Probabilities,
        double[][] BatchProbabilities,
        PipelineScore[][] Pipeline);

    /// <summary>One label of the pipeline's output.</summary>
    internal sealed record PipelineScore(string Label, double Score);
}
