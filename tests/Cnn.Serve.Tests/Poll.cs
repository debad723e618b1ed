using System.Diagnostics;

namespace Cnn.Serve.Tests;

/// <summary>Waiting on what a running server shows (its metrics, its answers), with a deadline.</summary>
internal static class Poll
{
    /// <summary>Asks <paramref name="condition"/> every 50 ms until it holds; fails the test after 10 s.</summary>
    public static async Task Until(Func<Task<bool>> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the condition did not hold within 10 s");
            await Task.Delay(50);
        }
    }
}
