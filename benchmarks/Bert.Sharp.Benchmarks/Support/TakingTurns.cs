using System.Diagnostics;

namespace Bert.Sharp.Benchmarks.Support;

/// <summary>
/// Alternatives timed in one process, taking turns round by round (so drift of a shared, noisy machine falls on both):
/// before each round the alternative's turn is prepared, it runs once to warm up, then is timed over a number of calls.
/// </summary>
internal static class TakingTurns
{
    /// <summary>The median time per call of each alternative, in milliseconds.</summary>
    /// <param name="rounds">Timed rounds per alternative.</param>
    /// <param name="first">The first alternative's work (one call).</param>
    /// <param name="second">The second alternative's work (one call).</param>
    /// <param name="calls">Calls timed per round.</param>
    /// <param name="prepare">Run before each round with the alternative's index (0 or 1), untimed: switching state shared by both.</param>
    /// <param name="pause">Untimed wait before each round, for the other alternative's worker threads to stop spinning.</param>
    public static (double First, double Second) Medians(int rounds, Action first, Action second, int calls = 1, Action<int>? prepare = null, TimeSpan pause = default)
    {
        double[] medians = Medians(rounds, [first, second], calls, prepare, pause);
        return (medians[0], medians[1]);
    }

    /// <summary>The median time per call of each alternative, in milliseconds, for any number of them taking turns in order.</summary>
    /// <param name="rounds">Timed rounds per alternative.</param>
    /// <param name="alternatives">Each alternative's work (one call).</param>
    /// <param name="calls">Calls timed per round.</param>
    /// <param name="prepare">Run before each round with the alternative's index, untimed: switching state shared by all.</param>
    /// <param name="pause">Untimed wait before each round, for the other alternatives' worker threads to stop spinning.</param>
    public static double[] Medians(int rounds, IReadOnlyList<Action> alternatives, int calls = 1, Action<int>? prepare = null, TimeSpan pause = default)
    {
        var times = alternatives.Select(_ => new List<double>()).ToArray();
        for (int round = 0; round < alternatives.Count * rounds; round++)
        {
            int which = round % alternatives.Count;
            if (pause > TimeSpan.Zero)
            {
                Thread.Sleep(pause);
            }

            prepare?.Invoke(which);
            alternatives[which](); // warm-up after the switch
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < calls; i++)
            {
                alternatives[which]();
            }

            times[which].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds / calls);
        }

        return [.. times.Select(Median)];
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}
