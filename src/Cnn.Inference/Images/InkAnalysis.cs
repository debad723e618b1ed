using System.Buffers;

namespace Cnn.Inference;

/// <summary>The measurements of the digit pipeline on one grey plane in [0, 1]: threshold, blobs, extent, centre.</summary>
internal static class InkAnalysis
{
    private const int Bins = 256;

    /// <summary>Mean and standard deviation of the outermost ring of pixels: the paper, in a photo of a digit.</summary>
    public static (float Mean, float Std) BorderStats(float[] gray, int w, int h)
    {
        double sum = 0, squares = 0;
        int n = 0;
        void Add(float v)
        {
            sum += v;
            squares += (double)v * v;
            n++;
        }

        for (int x = 0; x < w; x++)
        {
            Add(gray[x]);
            if (h > 1)
            {
                Add(gray[((h - 1) * w) + x]);
            }
        }

        for (int y = 1; y < h - 1; y++)
        {
            Add(gray[y * w]);
            if (w > 1)
            {
                Add(gray[(y * w) + w - 1]);
            }
        }

        double mean = sum / n;
        return ((float)mean, (float)Math.Sqrt(Math.Max(0, (squares / n) - (mean * mean))));
    }

    /// <summary>
    /// Otsu's threshold over 256 bins of [0, 1]: the upper edge of the bin that maximises the between-class variance,
    /// so values strictly above it form the brighter class.
    /// </summary>
    public static float Otsu(float[] gray)
    {
        Span<int> histogram = stackalloc int[Bins];
        Histogram(gray, histogram);
        double total = gray.Length;
        double sumAll = 0;
        for (int i = 0; i < Bins; i++)
        {
            sumAll += i * (double)histogram[i];
        }

        double sumBack = 0, weightBack = 0, best = -1;
        int threshold = 0;
        for (int t = 0; t < Bins; t++)
        {
            weightBack += histogram[t];
            double weightFore = total - weightBack;
            if (weightBack == 0 || weightFore == 0)
            {
                continue;
            }

            sumBack += t * (double)histogram[t];
            double meanBack = sumBack / weightBack;
            double meanFore = (sumAll - sumBack) / weightFore;
            double between = weightBack * weightFore * (meanBack - meanFore) * (meanBack - meanFore);
            if (between > best)
            {
                best = between;
                threshold = t;
            }
        }

        return (threshold + 1) / (float)Bins;
    }

    /// <summary>The counts of <paramref name="gray"/>'s values in <see cref="Bins"/> bins of [0, 1].</summary>
    private static void Histogram(float[] gray, Span<int> histogram)
    {
        // Four histograms taken in turn and then added: consecutive pixels mostly fall in the same bin, and one
        // histogram would make each increment wait for the last.
        Span<int> counts = stackalloc int[4 * Bins];
        Span<int> bins = stackalloc int[256];
        for (int start = 0; start < gray.Length; start += bins.Length)
        {
            var chunk = gray.AsSpan(start, Math.Min(bins.Length, gray.Length - start));
            int done = VectorOps.Bins(chunk, bins, Bins);
            for (int p = done; p < chunk.Length; p++)
            {
                bins[p] = Bin(chunk[p]);
            }

            int q = 0;
            for (; q + 3 < chunk.Length; q += 4)
            {
                counts[bins[q]]++;
                counts[Bins + bins[q + 1]]++;
                counts[(2 * Bins) + bins[q + 2]]++;
                counts[(3 * Bins) + bins[q + 3]]++;
            }

            for (; q < chunk.Length; q++)
            {
                counts[bins[q]]++;
            }
        }

        for (int b = 0; b < Bins; b++)
        {
            histogram[b] = counts[b] + counts[Bins + b] + counts[(2 * Bins) + b] + counts[(3 * Bins) + b];
        }
    }

    /// <summary>Clears 8-connected ink blobs smaller than <paramref name="share"/> of the largest.</summary>
    public static void DropSpecks(float[] ink, int w, int h, double share)
    {
        // The blobs are found as runs of ink along the rows, joined (union-find) with the runs of the row above that
        // touch them, diagonals included: one pass over the pixels and a little work per run, where a flood fill
        // visits every pixel's eight neighbours.
        var runs = new List<Run>();
        var parent = new List<int>();
        int above = 0;
        for (int y = 0; y < h; y++)
        {
            int here = runs.Count;
            var row = ink.AsSpan(y * w, w);
            for (int x = 0; x < row.Length; x++)
            {
                if (row[x] <= 0)
                {
                    continue;
                }

                int start = x;
                while (x < row.Length && row[x] > 0)
                {
                    x++;
                }

                runs.Add(new Run(y, start, x));
                parent.Add(runs.Count - 1);
                above = JoinAbove(runs, parent, above, here);
            }

            above = here;
        }

        if (runs.Count == 0)
        {
            return;
        }

        var sizes = new int[runs.Count];
        for (int r = 0; r < runs.Count; r++)
        {
            sizes[Find(parent, r)] += runs[r].End - runs[r].Start;
        }

        int largest = sizes.Max();
        for (int r = 0; r < runs.Count; r++)
        {
            if (sizes[Find(parent, r)] < largest * share)
            {
                ink.AsSpan((runs[r].Y * w) + runs[r].Start, runs[r].End - runs[r].Start).Clear();
            }
        }
    }

    /// <summary>
    /// Joins the newest run with the runs of the row above that touch it (8-connected: one pixel past either end
    /// counts), those runs being <paramref name="first"/>..<paramref name="end"/> − 1 in order along the row. Returns
    /// the first of them that can still touch a later run of this row, so each row is joined in one sweep however
    /// many runs it holds (a row of noise holds hundreds).
    /// </summary>
    private static int JoinAbove(List<Run> runs, List<int> parent, int first, int end)
    {
        int current = runs.Count - 1;
        var (start, stop) = (runs[current].Start, runs[current].End);
        while (first < end && runs[first].End < start)
        {
            first++;
        }

        for (int r = first; r < end && runs[r].Start <= stop; r++)
        {
            Union(parent, r, current);
        }

        return first;
    }

    /// <summary>Ink at x in [Start, End) of row Y.</summary>
    private readonly record struct Run(int Y, int Start, int End);

    private static int Find(List<int> parent, int i)
    {
        while (parent[i] != i)
        {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }

        return i;
    }

    private static void Union(List<int> parent, int a, int b)
    {
        (a, b) = (Find(parent, a), Find(parent, b));
        if (a != b)
        {
            parent[Math.Max(a, b)] = Math.Min(a, b);
        }
    }

    /// <summary>
    /// Marks in <paramref name="near"/> (1 near, 0 not) the pixels within <paramref name="radius"/> (chessboard
    /// distance) of a pixel above 0: a square dilation, separably — along the rows, then down the columns, each a union
    /// of shifted copies, which for the whole image at once is one pass over memory per shift.
    /// </summary>
    public static void Near(ReadOnlySpan<float> ink, int w, int h, int radius, Span<byte> near)
    {
        int n = w * h;
        var buffer = ArrayPool<byte>.Shared.Rent(2 * n);
        try
        {
            var marked = buffer.AsSpan(0, n);
            var rows = buffer.AsSpan(n, n);
            for (int i = 0; i < marked.Length && i < ink.Length; i++)
            {
                marked[i] = ink[i] > 0 ? (byte)1 : (byte)0;
            }

            marked.CopyTo(rows);
            int reach = Math.Min(radius, w - 1);
            for (int y = 0; y < h; y++)
            {
                var from = marked.Slice(y * w, w);
                var to = rows.Slice(y * w, w);
                for (int d = 1; d <= reach; d++)
                {
                    VectorOps.OrInto(to[..^d], from[d..]);
                    VectorOps.OrInto(to[d..], from[..^d]);
                }
            }

            var output = near[..n];
            rows.CopyTo(output);
            for (int d = 1; d <= Math.Min(radius, h - 1); d++)
            {
                VectorOps.OrInto(output[..^(d * w)], rows[(d * w)..]);
                VectorOps.OrInto(output[(d * w)..], rows[..^(d * w)]);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// The value a sort of <paramref name="values"/> would put at index <paramref name="k"/>, found by quickselect
    /// (reorders <paramref name="values"/>): the same number as sorting, without sorting all of it.
    /// </summary>
    public static float Select(Span<float> values, int k)
    {
        int lo = 0, hi = values.Length - 1;
        while (lo < hi)
        {
            float pivot = values[(int)(((uint)lo + (uint)hi) >> 1)];
            int i = lo, j = hi;
            while (i <= j)
            {
                while (values[i] < pivot)
                {
                    i++;
                }

                while (values[j] > pivot)
                {
                    j--;
                }

                if (i <= j)
                {
                    (values[i], values[j]) = (values[j], values[i]);
                    i++;
                    j--;
                }
            }

            if (k <= j)
            {
                hi = j;
            }
            else if (k >= i)
            {
                lo = i;
            }
            else
            {
                break;
            }
        }

        return values[k];
    }

    /// <summary>The inclusive box around every pixel above 0; X1 &lt; X0 when there is none.</summary>
    public static (int X0, int Y0, int X1, int Y1) BoundingBox(float[] ink, int w, int h)
    {
        int x0 = w, y0 = h, x1 = -1, y1 = -1;
        for (int y = 0; y < h; y++)
        {
            var row = ink.AsSpan(y * w, w);
            int first = 0;
            while (first < w && row[first] <= 0)
            {
                first++;
            }

            if (first == w)
            {
                continue;
            }

            int last = w - 1;
            while (row[last] <= 0)
            {
                last--;
            }

            (x0, x1, y0, y1) = (Math.Min(x0, first), Math.Max(x1, last), Math.Min(y0, y), y);
        }

        return (x0, y0, x1, y1);
    }

    /// <summary>Shifts the frame by whole pixels so its centre of mass lands on the frame's centre, as MNIST did.</summary>
    public static float[] CentreOfMass(float[] frame, int width, int height)
    {
        double mass = 0, sx = 0, sy = 0;
        for (int y = 0; y < height; y++)
        {
            var row = frame.AsSpan(y * width, width);
            for (int x = 0; x < row.Length; x++)
            {
                double v = row[x];
                mass += v;
                sx += v * x;
                sy += v * y;
            }
        }

        if (mass <= 0)
        {
            return frame;
        }

        int dx = (int)Math.Round(((width - 1) / 2.0) - (sx / mass));
        int dy = (int)Math.Round(((height - 1) / 2.0) - (sy / mass));
        var shifted = new float[frame.Length];
        int from = Math.Max(0, -dx), to = Math.Min(width, width - dx);
        for (int y = Math.Max(0, -dy); y < Math.Min(height, height - dy) && from < to; y++)
        {
            frame.AsSpan((y * width) + from, to - from).CopyTo(shifted.AsSpan(((y + dy) * width) + from + dx));
        }

        return shifted;
    }

    private static int Bin(float v) => Math.Clamp((int)(v * Bins), 0, Bins - 1);
}
