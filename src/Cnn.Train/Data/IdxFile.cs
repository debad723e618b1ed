using System.Buffers.Binary;
using System.IO.Compression;

namespace Cnn.Train.Data;

/// <summary>Images of an IDX3 file (MNIST's format): <see cref="Count"/> × <see cref="Rows"/> × <see cref="Columns"/> bytes.</summary>
public sealed record IdxImages(string Source, int Count, int Rows, int Columns, byte[] Pixels);

/// <summary>Labels of an IDX1 file: one byte per record.</summary>
public sealed record IdxLabels(string Source, byte[] Labels)
{
    public int Count => Labels.Length;
}

/// <summary>
/// Reader for the IDX files MNIST and Fashion-MNIST ship in, raw or gzip-compressed (detected from the bytes, not
/// the name). Every structural problem is an <see cref="InvalidDataException"/> naming the file, what was expected and
/// what was found.
/// </summary>
public static class IdxFile
{
    public const int ImagesMagic = 2051;
    public const int LabelsMagic = 2049;

    // The largest byte array .NET can allocate; far above any real IDX file (MNIST's images are 47 MB).
    private static readonly long MaxBytes = Array.MaxLength;

    // Bodies are read in growing chunks, so a header that promises more than the file holds fails as "truncated"
    // without first allocating what it promised.
    private const int FirstChunk = 1 << 20;

    public static IdxImages ReadImages(string path)
    {
        using var stream = OpenFile(path);
        return ReadImages(stream, path);
    }

    public static IdxLabels ReadLabels(string path)
    {
        using var stream = OpenFile(path);
        return ReadLabels(stream, path);
    }

    /// <summary>
    /// Reads an IDX3 image file from <paramref name="stream"/>; <paramref name="source"/> names it in errors. With
    /// <paramref name="labels"/>, a count that differs from the labels' is refused from the header, before the pixels
    /// are inflated.
    /// </summary>
    public static IdxImages ReadImages(Stream stream, string source, IdxLabels? labels = null)
    {
        using var data = Decompressed(stream, source);
        Span<byte> header = stackalloc byte[16];
        ReadExactly(data, header, source, "the 16-byte IDX3 header");
        int magic = BinaryPrimitives.ReadInt32BigEndian(header);
        if (magic != ImagesMagic)
        {
            throw new InvalidDataException(
                $"{source}: magic number {magic} (0x{magic:X8}); expected {ImagesMagic} (0x{ImagesMagic:X8}) for an IDX image file"
                + (magic == LabelsMagic ? " — this is a label file" : ""));
        }

        int count = BinaryPrimitives.ReadInt32BigEndian(header[4..]);
        int rows = BinaryPrimitives.ReadInt32BigEndian(header[8..]);
        int cols = BinaryPrimitives.ReadInt32BigEndian(header[12..]);
        if (count < 0 || rows <= 0 || cols <= 0)
        {
            throw new InvalidDataException($"{source}: header says {count} images of {rows}×{cols}; expected a non-negative count and positive dimensions");
        }

        long total = (long)count * rows * cols;
        if (total > MaxBytes)
        {
            throw new InvalidDataException($"{source}: header says {count} images of {rows}×{cols} ({total:N0} bytes); expected at most {MaxBytes:N0} bytes");
        }

        if (labels != null && labels.Count != count)
        {
            throw PairMismatch(labels, source, count);
        }

        var pixels = ReadBody(data, (int)total, source, $"{count} images of {rows}×{cols} = {total:N0} pixel bytes");
        ExpectEnd(data, source, $"{total:N0} pixel bytes");
        return new IdxImages(source, count, rows, cols, pixels);
    }

    /// <summary>Reads an IDX1 label file from <paramref name="stream"/>; <paramref name="source"/> names it in errors.</summary>
    public static IdxLabels ReadLabels(Stream stream, string source)
    {
        using var data = Decompressed(stream, source);
        Span<byte> header = stackalloc byte[8];
        ReadExactly(data, header, source, "the 8-byte IDX1 header");
        int magic = BinaryPrimitives.ReadInt32BigEndian(header);
        if (magic != LabelsMagic)
        {
            throw new InvalidDataException(
                $"{source}: magic number {magic} (0x{magic:X8}); expected {LabelsMagic} (0x{LabelsMagic:X8}) for an IDX label file"
                + (magic == ImagesMagic ? " — this is an image file" : ""));
        }

        int count = BinaryPrimitives.ReadInt32BigEndian(header[4..]);
        if (count < 0)
        {
            throw new InvalidDataException($"{source}: header says {count} labels; expected a non-negative count");
        }

        var labels = ReadBody(data, count, source, $"{count:N0} label bytes");
        ExpectEnd(data, source, $"{count:N0} label bytes");
        return new IdxLabels(source, labels);
    }

    /// <summary>Lower-case hex SHA-256 of the file's content uncompressed: its header and pixels, as they were read.</summary>
    public static string ContentSha256(IdxImages images)
    {
        Span<byte> header = stackalloc byte[16];
        BinaryPrimitives.WriteInt32BigEndian(header, ImagesMagic);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], images.Count);
        BinaryPrimitives.WriteInt32BigEndian(header[8..], images.Rows);
        BinaryPrimitives.WriteInt32BigEndian(header[12..], images.Columns);
        return Sha256(header, images.Pixels);
    }

    /// <summary>Lower-case hex SHA-256 of the file's content uncompressed: its header and labels, as they were read.</summary>
    public static string ContentSha256(IdxLabels labels)
    {
        Span<byte> header = stackalloc byte[8];
        BinaryPrimitives.WriteInt32BigEndian(header, LabelsMagic);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], labels.Count);
        return Sha256(header, labels.Labels);
    }

    // The readers accept exactly header + body, so hashing the two again is hashing the file's content.
    private static string Sha256(ReadOnlySpan<byte> header, byte[] body)
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        hash.AppendData(header);
        hash.AppendData(body);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Checks that images and labels pair up and every label is below <paramref name="classCount"/>.</summary>
    public static void CheckPair(IdxImages images, IdxLabels labels, int classCount)
    {
        if (images.Count != labels.Count)
        {
            throw PairMismatch(labels, images.Source, images.Count);
        }

        for (int i = 0; i < labels.Labels.Length; i++)
        {
            if (labels.Labels[i] >= classCount)
            {
                throw new InvalidDataException($"{labels.Source}: label {labels.Labels[i]} at record {i}; expected 0..{classCount - 1}");
            }
        }
    }

    private static InvalidDataException PairMismatch(IdxLabels labels, string images, int imageCount) => new(
        $"{labels.Source}: {labels.Count:N0} labels, but {images} has {imageCount:N0} images; expected the same count");

    /// <summary>Exactly <paramref name="length"/> bytes, read into a buffer that grows as the data arrives.</summary>
    private static byte[] ReadBody(Stream stream, int length, string source, string what)
    {
        var buffer = new byte[Math.Min(length, FirstChunk)];
        int total = 0;
        while (total < length)
        {
            if (total == buffer.Length)
            {
                Array.Resize(ref buffer, (int)Math.Min(length, 2L * buffer.Length));
            }

            int n = stream.Read(buffer.AsSpan(total));
            if (n == 0)
            {
                throw new InvalidDataException($"{source}: truncated: expected {what}, found only {total:N0} of {length:N0} bytes");
            }

            total += n;
        }

        return buffer;
    }

    private static FileStream OpenFile(string path)
    {
        if (Directory.Exists(path))
        {
            throw new InvalidDataException($"{path}: is a folder; expected an IDX file");
        }

        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"IDX file not found: {path}", path);
        }

        return File.OpenRead(path);
    }

    private static Stream Decompressed(Stream stream, string source)
    {
        // Sniff the gzip magic so a .gz that was already unpacked (or a raw file named .gz) still reads.
        var buffered = new BufferedStream(stream, 1 << 16);
        Span<byte> magic = stackalloc byte[2];
        int read = buffered.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        var prefix = magic[..read].ToArray();
        Stream whole = new PrefixedStream(prefix, buffered);
        if (read == 2 && prefix[0] == 0x1f && prefix[1] == 0x8b)
        {
            return new GzipErrorsNamed(new GZipStream(whole, CompressionMode.Decompress), source);
        }

        return whole;
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer, string source, string what)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = stream.Read(buffer[total..]);
            if (n == 0)
            {
                throw new InvalidDataException($"{source}: truncated: expected {what}, found only {total:N0} of {buffer.Length:N0} bytes");
            }

            total += n;
        }
    }

    private static void ExpectEnd(Stream stream, string source, string what)
    {
        Span<byte> probe = stackalloc byte[1];
        if (stream.Read(probe) != 0)
        {
            throw new InvalidDataException($"{source}: unexpected data after the {what} the header announced; the file is longer than its header says");
        }
    }

    /// <summary>Replays the sniffed bytes, then the rest of the stream.</summary>
    private sealed class PrefixedStream(byte[] prefix, Stream rest) : ReadOnlyWrapper(rest)
    {
        private int _offset;

        public override int Read(Span<byte> buffer)
        {
            if (_offset < prefix.Length)
            {
                int n = Math.Min(buffer.Length, prefix.Length - _offset);
                prefix.AsSpan(_offset, n).CopyTo(buffer);
                _offset += n;
                return n;
            }

            return Inner.Read(buffer);
        }
    }

    /// <summary>GZipStream's own errors say nothing of the file; this names it.</summary>
    private sealed class GzipErrorsNamed(Stream gzip, string source) : ReadOnlyWrapper(gzip)
    {
        public override int Read(Span<byte> buffer)
        {
            try
            {
                return Inner.Read(buffer);
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"{source}: corrupt gzip data ({e.Message})", e);
            }
        }
    }

    /// <summary>A forward-only, read-only stream over <paramref name="inner"/>, which it disposes.</summary>
    private abstract class ReadOnlyWrapper(Stream inner) : Stream
    {
        protected Stream Inner { get; } = inner;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public abstract override int Read(Span<byte> buffer);

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                Inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
