namespace Cnn.Tests;

/// <summary>Element-wise comparison of float outputs from two runtimes, with a stated tolerance.</summary>
public static class Tolerance
{
    /// <summary>
    /// The first element of <paramref name="actual"/> off from <paramref name="expected"/> by more than
    /// <paramref name="absolute"/> and more than <paramref name="relative"/> of the expected value, described; null when
    /// every element is within one of the two (and the lengths agree).
    /// </summary>
    public static string? FirstOutside(float[] expected, float[] actual, float absolute, float relative)
    {
        if (expected.Length != actual.Length)
        {
            return $"{actual.Length} elements; expected {expected.Length}";
        }

        for (int i = 0; i < expected.Length; i++)
        {
            float error = Math.Abs(expected[i] - actual[i]);
            if (!(error <= absolute || error <= relative * Math.Abs(expected[i])))
            {
                return $"element {i}: expected {expected[i]}, got {actual[i]}";
            }
        }

        return null;
    }
}
