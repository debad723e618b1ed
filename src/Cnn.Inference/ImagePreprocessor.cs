using SkiaSharp;

namespace Cnn.Inference;

/// <summary>How an image becomes the model's input.</summary>
public enum Preprocessing
{
    /// <summary>
    /// Handwriting to an MNIST-like 28×28: grayscale, light paper inverted, Otsu threshold, specks dropped, cropped to
    /// the ink, long side scaled to 20 px, padded to 28×28, centre of mass moved to the centre.
    /// </summary>
    Digit,

    /// <summary>Grayscale, resized to the input size.</summary>
    Gray,

    /// <summary>RGB planes, resized to the input size (colour models such as CIFAR).</summary>
    Color,
}

/// <summary>An image ready for the model: <see cref="Pixels"/> in [0, 1], [C, H, W] row-major, plus where it came from.</summary>
public sealed record PreparedImage(string Source, int Channels, int Height, int Width, float[] Pixels)
{
    /// <summary>PNG of what the net sees (grayscale or RGB), for showing next to the original.</summary>
    public byte[] EncodePng(int scale = 1)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(Width, Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (int y = 0; y < Height; y++)
        {
            for (int x = 0; x < Width; x++)
            {
                byte Value(int c) => (byte)Math.Clamp(MathF.Round(Pixels[(c * Height * Width) + (y * Width) + x] * 255f), 0, 255);
                bitmap.SetPixel(x, y, Channels == 3 ? new SKColor(Value(0), Value(1), Value(2)) : new SKColor(Value(0), Value(0), Value(0)));
            }
        }

        using var scaled = scale == 1 ? bitmap.Copy() : bitmap.Resize(new SKImageInfo(Width * scale, Height * scale), SKFilterQuality.None);
        using var image = SKImage.FromBitmap(scaled);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}

/// <summary>Decodes images with SkiaSharp and turns them into model inputs. Stateless and thread-safe.</summary>
public static class ImagePreprocessor
{
    /// <summary>The digit's long side after scaling, as MNIST: 20 px in a 28×28 frame.</summary>
    public const int DigitBox = 20;

    /// <summary>Photos are reduced to this long side before thresholding: plenty for a 20-px digit, and fast.</summary>
    public const int WorkingSize = 512;

    /// <summary>Below this spread between darkest and brightest grey the page counts as blank.</summary>
    public const float MinContrast = 24;

    /// <summary>Ink blobs smaller than this share of the largest one are specks of noise, not strokes.</summary>
    public const double SpeckShare = 0.1;

    /// <summary>Strokes whose mean intensity is this many times the training mean count as too thick.</summary>
    public const double ThickFactor = 2.2;

    /// <summary>Strokes whose mean intensity is below this share of the training mean count as too thin.</summary>
    public const double ThinFactor = 0.45;

    private static readonly (int Dx, int Dy)[] Cross = [(0, -1), (-1, 0), (1, 0), (0, 1)];

    public static SKBitmap Decode(byte[] encoded, string source, long maxPixels)
    {
        using var data = SKData.CreateCopy(encoded);
        return Decode(data, source, maxPixels);
    }

    public static SKBitmap Decode(Stream stream, string source, long maxPixels)
    {
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return Decode(memory.ToArray(), source, maxPixels);
    }

    private static SKBitmap Decode(SKData data, string source, long maxPixels)
    {
        if (data.Size == 0)
        {
            throw new InvalidImageException($"{source}: empty file; expected an image (PNG, JPEG, BMP, WebP)");
        }

        // The codec owns the stream once created.
        var stream = new SKMemoryStream(data);
        using var codec = SKCodec.Create(stream, out var result);
        if (codec == null)
        {
            stream.Dispose();
            throw new InvalidImageException($"{source}: not an image SkiaSharp can decode ({result}); expected PNG, JPEG, BMP or WebP");
        }

        var info = codec.Info;
        if (info.Width <= 0 || info.Height <= 0)
        {
            throw new InvalidImageException($"{source}: image is {info.Width}×{info.Height}; expected at least 1×1");
        }

        long pixels = (long)info.Width * info.Height;
        if (pixels > maxPixels)
        {
            throw new ImageTooLargeException($"{source}: image is {info.Width}×{info.Height} = {pixels:N0} pixels; the limit is {maxPixels:N0} (InferenceOptions.MaxImagePixels)");
        }

        var bitmap = new SKBitmap(new SKImageInfo(info.Width, info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        var decoded = codec.GetPixels(bitmap.Info, bitmap.GetPixels());
        if (decoded != SKCodecResult.Success)
        {
            bitmap.Dispose();
            throw new InvalidImageException($"{source}: image data is truncated or corrupt ({decoded}); expected a complete {info.Width}×{info.Height} image");
        }

        return bitmap;
    }

    /// <summary>Turns a decoded image into the input of a model taking [channels, height, width].</summary>
    /// <remarks><paramref name="targetInk"/> is the mean intensity of the training images (the normalisation mean): digit strokes far from it are thinned or thickened.</remarks>
    public static PreparedImage Prepare(SKBitmap bitmap, string source, Preprocessing mode, int channels, int height, int width, double? targetInk = null) => mode switch
    {
        Preprocessing.Digit => Digit(bitmap, source, height, width, targetInk),
        Preprocessing.Gray => Resized(bitmap, source, 1, height, width),
        Preprocessing.Color => Resized(bitmap, source, channels, height, width),
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown preprocessing"),
    };

    /// <summary>Grey levels 0..255 of an RGBA image, alpha composited over white paper.</summary>
    internal static float[] Gray(SKBitmap bitmap)
    {
        var gray = new float[bitmap.Width * bitmap.Height];
        var pixels = bitmap.Pixels;
        for (int i = 0; i < gray.Length; i++)
        {
            var c = pixels[i];
            float luminance = (0.299f * c.Red) + (0.587f * c.Green) + (0.114f * c.Blue);
            float alpha = c.Alpha / 255f;
            gray[i] = (alpha * luminance) + ((1 - alpha) * 255f);
        }

        return gray;
    }

    private static PreparedImage Digit(SKBitmap original, string source, int height, int width, double? targetInk)
    {
        using var working = Shrink(original, WorkingSize);
        int w = working.Width;
        int h = working.Height;
        var gray = Gray(working);

        float min = gray.Min();
        float max = gray.Max();
        if (max - min < MinContrast)
        {
            throw new NoInkException($"{source}: no ink found: grey levels span {min:F0}..{max:F0}; expected strokes that differ from the paper by at least {MinContrast}");
        }

        // Paper is what the border mostly is: light paper means dark ink, so invert to MNIST's white-on-black.
        if (BorderStats(gray, w, h).Mean > 127)
        {
            for (int i = 0; i < gray.Length; i++)
            {
                gray[i] = 255 - gray[i];
            }
        }

        // With grainy paper and little ink, Otsu's level can fall inside the paper's noise; the border is paper, so
        // nothing within four standard deviations of it counts as ink.
        var (borderMean, borderStd) = BorderStats(gray, w, h);
        float threshold = Math.Max(Otsu(gray), borderMean + (4 * borderStd));
        var ink = new float[gray.Length];
        for (int i = 0; i < gray.Length; i++)
        {
            ink[i] = gray[i] > threshold ? (gray[i] - threshold) / (255 - threshold) : 0;
        }

        DropSpecks(ink, w, h);
        var (x0, y0, x1, y1) = BoundingBox(ink, w, h);
        if (x1 < x0)
        {
            throw new NoInkException($"{source}: no ink found above the Otsu threshold {threshold:F0}; expected a drawn digit");
        }

        int cw = x1 - x0 + 1;
        int ch = y1 - y0 + 1;
        double scale = (double)DigitBox / Math.Max(cw, ch);
        int nw = Math.Max(1, (int)Math.Round(cw * scale));
        int nh = Math.Max(1, (int)Math.Round(ch * scale));

        using var crop = new SKBitmap(new SKImageInfo(cw, ch, SKColorType.Gray8, SKAlphaType.Opaque));
        var cropBytes = new byte[cw * ch];
        for (int y = 0; y < ch; y++)
        {
            for (int x = 0; x < cw; x++)
            {
                cropBytes[(y * cw) + x] = (byte)Math.Round(ink[((y + y0) * w) + x + x0] * 255);
            }
        }

        System.Runtime.InteropServices.Marshal.Copy(cropBytes, 0, crop.GetPixels(), cropBytes.Length);
        using var small = crop.Resize(new SKImageInfo(nw, nh, SKColorType.Gray8, SKAlphaType.Opaque), SKFilterQuality.High);
        var smallBytes = small.Bytes;
        int rowBytes = small.RowBytes;

        var frame = new float[height * width];
        int ox = (width - nw) / 2;
        int oy = (height - nh) / 2;
        for (int y = 0; y < nh; y++)
        {
            for (int x = 0; x < nw; x++)
            {
                frame[((y + oy) * width) + x + ox] = smallBytes[(y * rowBytes) + x] / 255f;
            }
        }

        if (targetInk is > 0)
        {
            frame = NormaliseStroke(frame, width, height, targetInk.Value);
        }

        return new PreparedImage(source, 1, height, width, CentreOfMass(frame, width, height));
    }

    /// <summary>
    /// Brings the stroke weight towards the training data's: while the mean intensity is far above the training mean
    /// (a marker pen) the frame is eroded, while far below it (a hairline) dilated, with a 3×3 cross, at most twice.
    /// </summary>
    internal static float[] NormaliseStroke(float[] frame, int width, int height, double targetInk)
    {
        for (int pass = 0; pass < 2; pass++)
        {
            double mean = frame.Average();
            if (mean > targetInk * ThickFactor)
            {
                frame = Morph(frame, width, height, erode: true);
            }
            else if (mean < targetInk * ThinFactor)
            {
                frame = Morph(frame, width, height, erode: false);
            }
            else
            {
                break;
            }
        }

        return frame;
    }

    private static float[] Morph(float[] frame, int width, int height, bool erode)
    {
        var result = new float[frame.Length];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                float v = frame[(y * width) + x];
                foreach (var (dx, dy) in Cross)
                {
                    int nx = x + dx, ny = y + dy;
                    float n = nx >= 0 && ny >= 0 && nx < width && ny < height ? frame[(ny * width) + nx] : 0;
                    v = erode ? Math.Min(v, n) : Math.Max(v, n);
                }

                result[(y * width) + x] = v;
            }
        }

        return result;
    }

    private static PreparedImage Resized(SKBitmap original, string source, int channels, int height, int width)
    {
        using var resized = original.Resize(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul), SKFilterQuality.High);
        var pixels = new float[channels * height * width];
        var colors = resized.Pixels;
        int plane = height * width;
        for (int i = 0; i < plane; i++)
        {
            var c = colors[i];
            float alpha = c.Alpha / 255f;
            float Over(byte v) => ((alpha * v) + ((1 - alpha) * 255f)) / 255f;
            if (channels == 3)
            {
                pixels[i] = Over(c.Red);
                pixels[plane + i] = Over(c.Green);
                pixels[(2 * plane) + i] = Over(c.Blue);
            }
            else
            {
                pixels[i] = Over((byte)Math.Round((0.299f * c.Red) + (0.587f * c.Green) + (0.114f * c.Blue)));
            }
        }

        return new PreparedImage(source, channels, height, width, pixels);
    }

    private static SKBitmap Shrink(SKBitmap bitmap, int longSide)
    {
        int side = Math.Max(bitmap.Width, bitmap.Height);
        if (side <= longSide)
        {
            return bitmap.Copy();
        }

        double s = (double)longSide / side;
        var info = new SKImageInfo(Math.Max(1, (int)(bitmap.Width * s)), Math.Max(1, (int)(bitmap.Height * s)), SKColorType.Rgba8888, SKAlphaType.Unpremul);
        return bitmap.Resize(info, SKFilterQuality.High);
    }

    private static (float Mean, float Std) BorderStats(float[] gray, int w, int h)
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
            Add(gray[((h - 1) * w) + x]);
        }

        for (int y = 1; y < h - 1; y++)
        {
            Add(gray[y * w]);
            Add(gray[(y * w) + w - 1]);
        }

        double mean = sum / n;
        return ((float)mean, (float)Math.Sqrt(Math.Max(0, (squares / n) - (mean * mean))));
    }

    /// <summary>Otsu's threshold over 256 grey bins: the level that maximises the between-class variance.</summary>
    internal static float Otsu(float[] gray)
    {
        var histogram = new long[256];
        foreach (var g in gray)
        {
            histogram[Math.Clamp((int)g, 0, 255)]++;
        }

        double total = gray.Length;
        double sumAll = 0;
        for (int i = 0; i < 256; i++)
        {
            sumAll += i * (double)histogram[i];
        }

        double sumBack = 0;
        double weightBack = 0;
        double best = -1;
        int threshold = 0;
        for (int t = 0; t < 256; t++)
        {
            weightBack += histogram[t];
            if (weightBack == 0)
            {
                continue;
            }

            double weightFore = total - weightBack;
            if (weightFore == 0)
            {
                break;
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

        return threshold;
    }

    /// <summary>Clears 8-connected ink blobs smaller than <see cref="SpeckShare"/> of the largest.</summary>
    private static void DropSpecks(float[] ink, int w, int h)
    {
        var label = new int[ink.Length];
        var sizes = new List<int> { 0 };
        var stack = new Stack<int>();
        for (int start = 0; start < ink.Length; start++)
        {
            if (ink[start] <= 0 || label[start] != 0)
            {
                continue;
            }

            int id = sizes.Count;
            int size = 0;
            label[start] = id;
            stack.Push(start);
            while (stack.Count > 0)
            {
                int p = stack.Pop();
                size++;
                int px = p % w;
                int py = p / w;
                for (int dy = -1; dy <= 1; dy++)
                {
                    for (int dx = -1; dx <= 1; dx++)
                    {
                        int nx = px + dx;
                        int ny = py + dy;
                        if (nx < 0 || ny < 0 || nx >= w || ny >= h)
                        {
                            continue;
                        }

                        int q = (ny * w) + nx;
                        if (ink[q] > 0 && label[q] == 0)
                        {
                            label[q] = id;
                            stack.Push(q);
                        }
                    }
                }
            }

            sizes.Add(size);
        }

        int largest = sizes.Max();
        for (int i = 0; i < ink.Length; i++)
        {
            if (label[i] != 0 && sizes[label[i]] < largest * SpeckShare)
            {
                ink[i] = 0;
            }
        }
    }

    private static (int X0, int Y0, int X1, int Y1) BoundingBox(float[] ink, int w, int h)
    {
        int x0 = w, y0 = h, x1 = -1, y1 = -1;
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                if (ink[(y * w) + x] > 0)
                {
                    x0 = Math.Min(x0, x);
                    x1 = Math.Max(x1, x);
                    y0 = Math.Min(y0, y);
                    y1 = Math.Max(y1, y);
                }
            }
        }

        return (x0, y0, x1, y1);
    }

    /// <summary>Shifts the frame by whole pixels so its centre of mass lands on the frame's centre, as MNIST did.</summary>
    private static float[] CentreOfMass(float[] frame, int width, int height)
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

        int dx = (int)Math.Round(((width - 1) / 2.0) - (sx / mass));
        int dy = (int)Math.Round(((height - 1) / 2.0) - (sy / mass));
        var shifted = new float[frame.Length];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int tx = x + dx;
                int ty = y + dy;
                if (tx >= 0 && ty >= 0 && tx < width && ty < height)
                {
                    shifted[(ty * width) + tx] = frame[(y * width) + x];
                }
            }
        }

        return shifted;
    }
}
