namespace Bert.Sharp.Training;

/// <summary>Accuracy, macro precision/recall/F1 and the confusion matrix from predictions (scikit-learn's definitions, zero_division = 0).</summary>
internal static class ClassificationMetrics
{
    public static EvaluationReport SingleLabel(IReadOnlyList<string> labels, int[] actual, int[] predicted, double loss)
    {
        int k = labels.Count;
        int[][] matrix = [.. Enumerable.Range(0, k).Select(_ => new int[k])];
        int correct = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            matrix[actual[i]][predicted[i]]++;
            if (actual[i] == predicted[i])
            {
                correct++;
            }
        }

        var perClass = new List<ClassMetrics>(k);
        for (int c = 0; c < k; c++)
        {
            int tp = matrix[c][c];
            int support = matrix[c].Sum();
            int predictedCount = matrix.Sum(row => row[c]);
            perClass.Add(Metrics(labels[c], tp, predictedCount, support));
        }

        return Report(labels, actual.Length, correct, loss, perClass, correct, actual.Length, actual.Length) with { ConfusionMatrix = matrix };
    }

    public static EvaluationReport MultiLabel(IReadOnlyList<string> labels, bool[][] actual, bool[][] predicted, double loss)
    {
        int k = labels.Count;
        int exact = 0;
        var perClass = new List<ClassMetrics>(k);
        for (int i = 0; i < actual.Length; i++)
        {
            if (actual[i].AsSpan().SequenceEqual(predicted[i]))
            {
                exact++;
            }
        }

        long allTp = 0, allPredicted = 0, allSupport = 0;
        for (int c = 0; c < k; c++)
        {
            int tp = 0, predictedCount = 0, support = 0;
            for (int i = 0; i < actual.Length; i++)
            {
                tp += actual[i][c] && predicted[i][c] ? 1 : 0;
                predictedCount += predicted[i][c] ? 1 : 0;
                support += actual[i][c] ? 1 : 0;
            }

            perClass.Add(Metrics(labels[c], tp, predictedCount, support));
            allTp += tp;
            allPredicted += predictedCount;
            allSupport += support;
        }

        return Report(labels, actual.Length, exact, loss, perClass, allTp, allPredicted, allSupport);
    }

    // Accuracy as the share of fully correct examples; micro scores from the pooled counts; macro scores as unweighted means over the classes.
    private static EvaluationReport Report(IReadOnlyList<string> labels, int count, int correct, double loss, List<ClassMetrics> perClass, long truePositives, long predicted, long support)
    {
        ClassMetrics micro = Metrics("micro", truePositives, predicted, support);
        return new()
        {
        Count = count,
        Loss = loss,
        Labels = labels,
        Accuracy = count == 0 ? double.NaN : (double)correct / count,
        MacroPrecision = perClass.Average(m => m.Precision),
        MacroRecall = perClass.Average(m => m.Recall),
        MacroF1 = perClass.Average(m => m.F1),
        MicroPrecision = count == 0 ? double.NaN : micro.Precision,
        MicroRecall = count == 0 ? double.NaN : micro.Recall,
        MicroF1 = count == 0 ? double.NaN : micro.F1,
        PerClass = perClass,
        };
    }

    public static EvaluationReport Regression(IReadOnlyList<string> labels, float[][] actual, float[][] predicted, double loss)
    {
        double se = 0, ae = 0;
        long n = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            for (int j = 0; j < actual[i].Length; j++)
            {
                double d = predicted[i][j] - actual[i][j];
                se += d * d;
                ae += Math.Abs(d);
                n++;
            }
        }

        return new EvaluationReport
        {
            Count = actual.Length,
            Loss = loss,
            Labels = labels,
            MeanSquaredError = n == 0 ? double.NaN : se / n,
            MeanAbsoluteError = n == 0 ? double.NaN : ae / n,
        };
    }

    private static ClassMetrics Metrics(string label, long truePositives, long predicted, long support)
    {
        double precision = predicted == 0 ? 0 : (double)truePositives / predicted;
        double recall = support == 0 ? 0 : (double)truePositives / support;
        double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
        return new ClassMetrics(label, precision, recall, f1, (int)support);
    }
}
