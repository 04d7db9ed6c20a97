using System.Runtime.CompilerServices;

namespace Bert.Sharp.Inference;

/// <summary>The argument checks every predictor, embedder and batching queue makes on a list of texts, written once.</summary>
internal static class TextArguments
{
    /// <summary>
    /// Throws <see cref="ArgumentNullException"/> when <paramref name="texts"/> is null and <see cref="ArgumentException"/>
    /// naming the index of the first null text (<c>Text #3 is null.</c>).
    /// </summary>
    public static void ThrowIfAnyNull(IReadOnlyList<string> texts, [CallerArgumentExpression(nameof(texts))] string? paramName = null)
    {
        ArgumentNullException.ThrowIfNull(texts, paramName);
        for (int i = 0; i < texts.Count; i++)
        {
            if (texts[i] is null)
            {
                throw new ArgumentException($"Text #{i} is null.", paramName);
            }
        }
    }
}
