using System.Diagnostics;

namespace Cnn.Bench;

/// <summary>Latency of one call: median, 99th percentile and mean, in microseconds.</summary>
internal sealed record Timing(double P50, double P99, double Mean)
{
    private const int Round = 1_000;

    /// <summary>
    /// Times each action <paramref name="iterations"/> times after a warm-up. The actions take turns in rounds of 1,000
    /// calls, so drift in this shared machine's speed falls on all of them alike and their ratios compare like with like.
    /// </summary>
    public static Timing[] Interleaved(int iterations, params Action[] actions)
    {
        foreach (var action in actions)
        {
            for (int i = 0; i < Math.Min(500, iterations); i++)
            {
                action();
            }
        }

        var times = actions.Select(_ => new List<double>(iterations)).ToArray();
        for (int done = 0; done < iterations; done += Round)
        {
            for (int k = 0; k < actions.Length; k++)
            {
                for (int i = 0; i < Math.Min(Round, iterations - done); i++)
                {
                    long start = Stopwatch.GetTimestamp();
                    actions[k]();
                    times[k].Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
                }
            }
        }

        return [.. times.Select(Summarise)];
    }

    /// <summary>Times one action <paramref name="iterations"/> times after a warm-up.</summary>
    public static Timing Of(int iterations, Action action) => Interleaved(iterations, action)[0];

    private static Timing Summarise(List<double> list)
    {
        var times = list.ToArray();
        Array.Sort(times);
        return new Timing(times[times.Length / 2], times[(int)(times.Length * 0.99)], times.Average());
    }
}
