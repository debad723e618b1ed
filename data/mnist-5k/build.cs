// Rebuilds data/mnist-5k from MNIST's own files:  dotnet run data/mnist-5k/build.cs -- MNIST_DIR [OUT_DIR]
// MNIST_DIR holds the four IDX files, raw or gzipped (bash data/get-mnist.sh puts them in ~/.cache/cnn/mnist).
// 4,000 training digits are drawn from MNIST's 60,000 and 1,000 test digits from its 10,000, each a seeded draw
// without replacement (System.Random(1) and (2): its seeded algorithm is fixed across .NET versions), kept in file order.
//
//   dotnet run data/mnist-5k/build.cs -- --resize-digits-5k DIGITS5K_DIR OUT_DIR
// writes the alternative docs/experiments.md compares it with: digits-5k's 20×20 digits (OpenCV's digits.png,
// MNIST images shrunk 28→20) scaled back up to 28×28 by bilinear resizing instead of padding.
using System.Buffers.Binary;
using System.IO.Compression;

if (args.Length >= 3 && args[0] == "--resize-digits-5k")
{
    foreach (var part in new[] { "train", "t10k" })
    {
        var (pixels, count) = ReadImages(Path.Combine(args[1], $"{part}-images-idx3-ubyte.gz"));
        WriteImages(Path.Combine(args[2], $"{part}-images-idx3-ubyte.gz"), Resized(pixels, count), count);
        File.Copy(Path.Combine(args[1], $"{part}-labels-idx1-ubyte.gz"), Path.Combine(args[2], $"{part}-labels-idx1-ubyte.gz"), overwrite: true);
    }

    return 0;
}

if (args.Length is < 1 or > 2)
{
    Console.Error.WriteLine("usage: dotnet run data/mnist-5k/build.cs -- MNIST_DIR [OUT_DIR]");
    return 2;
}

string output = args.Length == 2 ? args[1] : Path.Combine("data", "mnist-5k");
Subset(args[0], output, "train", 4_000, seed: 1);
Subset(args[0], output, "t10k", 1_000, seed: 2);
return 0;

static void Subset(string mnist, string output, string part, int take, int seed)
{
    var (pixels, count) = ReadImages(Find(mnist, $"{part}-images-idx3-ubyte"));
    var labels = ReadBody(Find(mnist, $"{part}-labels-idx1-ubyte"), 8);
    var chosen = Enumerable.Range(0, count).ToArray();
    var random = new Random(seed);
    for (int i = 0; i < take; i++)
    {
        int j = random.Next(i, count);
        (chosen[i], chosen[j]) = (chosen[j], chosen[i]);
    }

    var picked = chosen[..take].Order().ToArray();
    var images = new byte[take * 784];
    var pickedLabels = new byte[take];
    for (int i = 0; i < take; i++)
    {
        pixels.AsSpan(picked[i] * 784, 784).CopyTo(images.AsSpan(i * 784));
        pickedLabels[i] = labels[picked[i]];
    }

    Directory.CreateDirectory(output);
    WriteImages(Path.Combine(output, $"{part}-images-idx3-ubyte.gz"), images, take);
    WriteLabels(Path.Combine(output, $"{part}-labels-idx1-ubyte.gz"), pickedLabels);
}

static string Find(string folder, string name) =>
    new[] { Path.Combine(folder, name), Path.Combine(folder, name + ".gz") }.FirstOrDefault(File.Exists)
    ?? throw new FileNotFoundException($"{folder}: neither {name} nor {name}.gz is there");

static (byte[] Pixels, int Count) ReadImages(string path)
{
    var body = ReadBody(path, 16);
    return (body, body.Length / 784);
}

static byte[] ReadBody(string path, int header)
{
    using var file = File.OpenRead(path);
    Stream stream = file;
    if (file.ReadByte() == 0x1f)
    {
        file.Position = 0;
        stream = new GZipStream(file, CompressionMode.Decompress);
    }
    else
    {
        file.Position = 0;
    }

    using var memory = new MemoryStream();
    stream.CopyTo(memory);
    return memory.ToArray()[header..];
}

// 20×20 centre of each 28×28 image (digits-5k padded its cells by 4), scaled to 28×28 with pixel-centre bilinear sampling.
static byte[] Resized(byte[] pixels, int count)
{
    var output = new byte[count * 784];
    const double scale = 20.0 / 28.0;
    for (int n = 0; n < count; n++)
    {
        int origin = n * 784;
        for (int y = 0; y < 28; y++)
        {
            for (int x = 0; x < 28; x++)
            {
                double sy = Math.Clamp(((y + 0.5) * scale) - 0.5, 0, 19), sx = Math.Clamp(((x + 0.5) * scale) - 0.5, 0, 19);
                int y0 = (int)sy, x0 = (int)sx, y1 = Math.Min(y0 + 1, 19), x1 = Math.Min(x0 + 1, 19);
                double fy = sy - y0, fx = sx - x0;
                double At(int yy, int xx) => pixels[origin + ((yy + 4) * 28) + xx + 4];
                double value = ((1 - fy) * (((1 - fx) * At(y0, x0)) + (fx * At(y0, x1)))) + (fy * (((1 - fx) * At(y1, x0)) + (fx * At(y1, x1))));
                output[(n * 784) + (y * 28) + x] = (byte)Math.Clamp(Math.Round(value), 0, 255);
            }
        }
    }

    return output;
}

static void WriteImages(string path, byte[] pixels, int count)
{
    var header = new byte[16];
    BinaryPrimitives.WriteInt32BigEndian(header, 2051);
    BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), count);
    BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(8), 28);
    BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(12), 28);
    Write(path, header, pixels);
}

static void WriteLabels(string path, byte[] labels)
{
    var header = new byte[8];
    BinaryPrimitives.WriteInt32BigEndian(header, 2049);
    BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), labels.Length);
    Write(path, header, labels);
}

// gzip with no file name or time stamp in its header, so a rebuild is byte-identical.
static void Write(string path, byte[] header, byte[] body)
{
    using var file = File.Create(path);
    using var gzip = new GZipStream(file, CompressionLevel.SmallestSize);
    gzip.Write(header);
    gzip.Write(body);
}
