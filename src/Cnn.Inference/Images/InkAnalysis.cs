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
        var histogram = new long[Bins];
        foreach (var g in gray)
        {
            histogram[Bin(g)]++;
        }

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

    /// <summary>Clears 8-connected ink blobs smaller than <paramref name="share"/> of the largest.</summary>
    public static void DropSpecks(float[] ink, int w, int h, double share)
    {
        var label = new int[ink.Length];
        var sizes = new List<int> { 0 };
        var stack = new int[ink.Length];
        for (int start = 0; start < ink.Length; start++)
        {
            if (ink[start] > 0 && label[start] == 0)
            {
                sizes.Add(Fill(ink, label, w, h, start, sizes.Count, stack));
            }
        }

        int largest = sizes.Max();
        for (int i = 0; i < ink.Length; i++)
        {
            if (label[i] != 0 && sizes[label[i]] < largest * share)
            {
                ink[i] = 0;
            }
        }
    }

    /// <summary>Pixels within <paramref name="radius"/> (chessboard distance) of a pixel above 0: a square dilation, separably.</summary>
    public static bool[] Near(float[] ink, int w, int h, int radius)
    {
        // Along each row, then down the columns a row at a time (with the last and next marked row of every column),
        // so both passes walk memory in order.
        var rows = new bool[ink.Length];
        for (int y = 0; y < h; y++)
        {
            int start = y * w, last = int.MinValue / 2;
            for (int x = 0; x < w; x++)
            {
                last = ink[start + x] > 0 ? x : last;
                rows[start + x] = x - last <= radius;
            }

            last = int.MaxValue / 2;
            for (int x = w - 1; x >= 0; x--)
            {
                last = ink[start + x] > 0 ? x : last;
                rows[start + x] |= last - x <= radius;
            }
        }

        var near = new bool[ink.Length];
        var mark = new int[w];
        Array.Fill(mark, int.MinValue / 2);
        for (int y = 0; y < h; y++)
        {
            for (int x = 0, at = y * w; x < w; x++, at++)
            {
                mark[x] = rows[at] ? y : mark[x];
                near[at] = y - mark[x] <= radius;
            }
        }

        Array.Fill(mark, int.MaxValue / 2);
        for (int y = h - 1; y >= 0; y--)
        {
            for (int x = 0, at = y * w; x < w; x++, at++)
            {
                mark[x] = rows[at] ? y : mark[x];
                near[at] |= mark[x] - y <= radius;
            }
        }

        return near;
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
            for (int x = 0; x < width; x++)
            {
                double v = frame[(y * width) + x];
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
        for (int y = Math.Max(0, -dy); y < Math.Min(height, height - dy); y++)
        {
            for (int x = Math.Max(0, -dx); x < Math.Min(width, width - dx); x++)
            {
                shifted[((y + dy) * width) + x + dx] = frame[(y * width) + x];
            }
        }

        return shifted;
    }

    private static int Bin(float v) => Math.Clamp((int)(v * Bins), 0, Bins - 1);

    /// <summary>Labels the blob around <paramref name="start"/> with <paramref name="id"/>; returns its size.</summary>
    private static int Fill(float[] ink, int[] label, int w, int h, int start, int id, int[] stack)
    {
        int size = 0, top = 0;
        label[start] = id;
        stack[top++] = start;
        while (top > 0)
        {
            int p = stack[--top];
            size++;
            int py = p / w, px = p - (py * w);
            int y0 = Math.Max(0, py - 1), y1 = Math.Min(h - 1, py + 1), x0 = Math.Max(0, px - 1), x1 = Math.Min(w - 1, px + 1);
            for (int ny = y0; ny <= y1; ny++)
            {
                for (int q = (ny * w) + x0, end = (ny * w) + x1; q <= end; q++)
                {
                    if (ink[q] > 0 && label[q] == 0)
                    {
                        label[q] = id;
                        stack[top++] = q;
                    }
                }
            }
        }

        return size;
    }
}
