namespace Bert.Sharp.Inference;

/// <summary>Small vector helpers the decoders and metrics of every task share.</summary>
internal static class VectorMath
{
    /// <summary>The index of the largest value (the first one on a tie; a NaN never wins); 0 for an empty vector.</summary>
    /// <param name="values">Scores, logits or probabilities.</param>
    public static int ArgMax(float[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }
}
