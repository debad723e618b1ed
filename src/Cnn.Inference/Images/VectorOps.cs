using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Cnn.Inference;

/// <summary>
/// The digit pipeline's per-pixel loops a vector at a time. Each lane does exactly the scalar arithmetic (the same
/// operations in the same order, no fused multiply-add), so the results are bit for bit the scalar loop's; only the
/// number of instructions changes, which on a large drawing is most of the cost. Compiled optimised from the first
/// call: unoptimised, each vector operation is a call of its own, and a one-shot `cnn predict` paid for that.
/// </summary>
internal static class VectorOps
{
    /// <summary>The smallest and largest value of <paramref name="values"/> (not empty, no NaN).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static (float Min, float Max) MinMax(ReadOnlySpan<float> values)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        int i = 0;
        if (Vector.IsHardwareAccelerated && values.Length >= Vector<float>.Count)
        {
            var lows = new Vector<float>(min);
            var highs = new Vector<float>(max);
            var vectors = MemoryMarshal.Cast<float, Vector<float>>(values);
            foreach (var v in vectors)
            {
                lows = Vector.Min(lows, v);
                highs = Vector.Max(highs, v);
            }

            for (int lane = 0; lane < Vector<float>.Count; lane++)
            {
                (min, max) = (Math.Min(min, lows[lane]), Math.Max(max, highs[lane]));
            }

            i = vectors.Length * Vector<float>.Count;
        }

        for (; i < values.Length; i++)
        {
            (min, max) = (Math.Min(min, values[i]), Math.Max(max, values[i]));
        }

        return (min, max);
    }

    /// <summary>Each value <c>v</c> becomes <c>1 − v</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Invert(Span<float> values)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vectors = MemoryMarshal.Cast<float, Vector<float>>(values);
            for (int k = 0; k < vectors.Length; k++)
            {
                vectors[k] = Vector<float>.One - vectors[k];
            }

            i = vectors.Length * Vector<float>.Count;
        }

        for (; i < values.Length; i++)
        {
            values[i] = 1 - values[i];
        }
    }

    /// <summary><c>v &gt; threshold ? (v − threshold) · scale : 0</c> for each value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Threshold(ReadOnlySpan<float> values, Span<float> output, float threshold, float scale)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var t = new Vector<float>(threshold);
            var s = new Vector<float>(scale);
            var input = MemoryMarshal.Cast<float, Vector<float>>(values);
            var result = MemoryMarshal.Cast<float, Vector<float>>(output);
            for (int k = 0; k < input.Length && k < result.Length; k++)
            {
                var v = input[k];
                result[k] = Vector.ConditionalSelect(Vector.GreaterThan(v, t), (v - t) * s, Vector<float>.Zero);
            }

            i = Math.Min(input.Length, result.Length) * Vector<float>.Count;
        }

        for (; i < values.Length; i++)
        {
            output[i] = values[i] > threshold ? (values[i] - threshold) * scale : 0;
        }
    }

    /// <summary>
    /// <c>near ? clamp((v − floor) · scale, 0, 1) : 0</c> for each value, <paramref name="near"/> holding 0 or 1 a
    /// pixel. The values are finite, so clamping by Min and Max is Math.Clamp's result.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Ramp(ReadOnlySpan<float> values, ReadOnlySpan<byte> near, Span<float> output, float floor, float scale)
    {
        int i = 0, block = Vector<byte>.Count;
        if (Vector.IsHardwareAccelerated && Vector<float>.Count * 4 == block)
        {
            var f = new Vector<float>(floor);
            var s = new Vector<float>(scale);
            for (; i + block <= values.Length && i + block <= near.Length && i + block <= output.Length; i += block)
            {
                // The flags of a block of pixels, widened byte → ushort → uint to one lane per float.
                Vector.Widen(new Vector<byte>(near.Slice(i, block)), out var low, out var high);
                Vector.Widen(low, out var q0, out var q1);
                Vector.Widen(high, out var q2, out var q3);
                RampLanes(values, output, i, q0, f, s);
                RampLanes(values, output, i + Vector<float>.Count, q1, f, s);
                RampLanes(values, output, i + (2 * Vector<float>.Count), q2, f, s);
                RampLanes(values, output, i + (3 * Vector<float>.Count), q3, f, s);
            }
        }

        for (; i < values.Length; i++)
        {
            output[i] = near[i] != 0 ? Math.Clamp((values[i] - floor) * scale, 0, 1) : 0;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RampLanes(ReadOnlySpan<float> values, Span<float> output, int at, Vector<uint> flags, Vector<float> floor, Vector<float> scale)
    {
        var ramp = Vector.Min(Vector.Max((new Vector<float>(values[at..]) - floor) * scale, Vector<float>.Zero), Vector<float>.One);
        var near = Vector.AsVectorSingle(~Vector.Equals(flags, Vector<uint>.Zero));
        Vector.ConditionalSelect(near, ramp, Vector<float>.Zero).CopyTo(output[at..]);
    }

    /// <summary><c>target[i] |= source[i]</c> over the shorter of the two, which must not overlap.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void OrInto(Span<byte> target, ReadOnlySpan<byte> source)
    {
        int n = Math.Min(target.Length, source.Length), width = Vector<byte>.Count;
        if (!Vector.IsHardwareAccelerated || n < width)
        {
            for (int i = 0; i < n; i++)
            {
                target[i] |= source[i];
            }

            return;
        }

        var to = MemoryMarshal.Cast<byte, Vector<byte>>(target[..n]);
        var from = MemoryMarshal.Cast<byte, Vector<byte>>(source[..n]);
        for (int k = 0; k < to.Length && k < from.Length; k++)
        {
            to[k] |= from[k];
        }

        // The tail as one more vector ending at n: OR-ing a byte again changes nothing.
        var last = new Vector<byte>(target[(n - width)..n]) | new Vector<byte>(source[(n - width)..n]);
        last.CopyTo(target[(n - width)..n]);
    }

    /// <summary>Otsu's bin of each value: <c>clamp((int)(v · bins), 0, bins − 1)</c>; returns how many it did.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Bins(ReadOnlySpan<float> values, Span<int> bins, int count)
    {
        if (!Vector.IsHardwareAccelerated)
        {
            return 0;
        }

        var scale = new Vector<float>(count);
        var top = new Vector<int>(count - 1);
        var input = MemoryMarshal.Cast<float, Vector<float>>(values);
        var output = MemoryMarshal.Cast<int, Vector<int>>(bins);
        int n = Math.Min(input.Length, output.Length);
        for (int k = 0; k < n; k++)
        {
            output[k] = Vector.Min(Vector.Max(Vector.ConvertToInt32(input[k] * scale), Vector<int>.Zero), top);
        }

        return n * Vector<float>.Count;
    }
}
