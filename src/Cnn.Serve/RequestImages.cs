using System.Buffers;
using System.Text.Json;
using Cnn.Inference;
using Microsoft.AspNetCore.Http;

namespace Cnn.Serve;

/// <summary>The images of a request as model inputs, and whether the body was a list (answered with an array).</summary>
internal sealed record RequestImages(IReadOnlyList<PreparedImage> Images, bool IsList);

/// <summary>
/// A request body that has arrived, not yet decoded: <see cref="Prepare"/> decodes and prepares its images, the costly
/// part, which the endpoint runs once the request is admitted to inference.
/// </summary>
/// <param name="Decode">Decodes and prepares the images for a model.</param>
/// <param name="IsList">Whether the body was a list (answered with an array).</param>
/// <param name="Count">How many images the body holds, known before any is decoded.</param>
internal sealed record ReceivedImages(Func<CnnModel, IReadOnlyList<PreparedImage>> Decode, bool IsList, int Count)
{
    public RequestImages Prepare(CnnModel model) => new(Decode(model), IsList);
}

/// <summary>
/// Reads a request body in any of the forms the API takes: an encoded image (PNG, JPEG, WebP, BMP), multipart/form-data
/// with one or more image files, or JSON pixels (<c>{"pixels": [...]}</c> or <c>{"images": [[...], ...]}</c>), whole and
/// bounded, before any inference slot is taken. Images are decoded and prepared later, exactly as <c>cnn predict</c>
/// prepares a file.
/// </summary>
internal static class RequestImageReader
{
    private static readonly string[] ImageTypes = ["image/png", "image/jpeg", "image/webp", "image/bmp"];

    public static async Task<ReceivedImages> ReadAsync(HttpRequest request, ServeOptions options, CancellationToken cancel)
    {
        string type = request.ContentType?.Split(';')[0].Trim().ToLowerInvariant() ?? "";
        long maxBody = options.MaxBodyBytes;
        string coding = request.Headers.TransferEncoding.ToString();
        if (coding.Length > 0 && !coding.Trim().Equals("chunked", StringComparison.OrdinalIgnoreCase))
        {
            // Kestrel decodes chunked only; any other coding (gzip, chunked) would be read as raw bytes. RFC 9112 §6.1: 501.
            throw new ApiException(StatusCodes.Status501NotImplemented, "Not implemented",
                $"Transfer-Encoding is '{coding}'; expected chunked or none (no other transfer coding is supported: send the image as it is)");
        }

        if (request.ContentLength > maxBody)
        {
            throw Problems.TooLarge($"the body is {request.ContentLength:N0} bytes; the limit is {maxBody:N0} (--max-body)");
        }

        if (ImageTypes.Contains(type))
        {
            var bytes = await ReadBodyAsync(request, maxBody, cancel);
            CheckFormat(type, bytes, "the request body");
            return new ReceivedImages(m => [m.Images.Prepare(m.Images.Decode(bytes, "the request body"))], false, 1);
        }

        if (type == "multipart/form-data")
        {
            var files = await ReadFormAsync(request, cancel);
            var encoded = files.Select(file =>
            {
                using var stream = file.OpenReadStream();
                using var memory = new MemoryStream();
                stream.CopyTo(memory);
                var named = (Name: string.IsNullOrEmpty(file.FileName) ? file.Name : file.FileName, Bytes: memory.ToArray());
                string declared = file.ContentType?.Split(';')[0].Trim().ToLowerInvariant() ?? "";
                if (ImageTypes.Contains(declared))
                {
                    CheckFormat(declared, named.Bytes, named.Name);
                }

                return named;
            }).ToList();
            return new ReceivedImages(m =>
            {
                CheckRequestPixels(m, encoded, options.MaxRequestPixels);
                return [.. encoded.Select(file => m.Images.Prepare(m.Images.Decode(file.Bytes, file.Name)))];
            }, true, encoded.Count);
        }

        if (type == "application/json")
        {
            return await ReadPixelsAsync(request, maxBody, cancel);
        }

        throw Problems.Unsupported(
            $"Content-Type '{(type.Length == 0 ? "(none)" : type)}'; expected {string.Join(", ", ImageTypes)}, multipart/form-data or application/json");
    }

    private static async Task<IFormFileCollection> ReadFormAsync(HttpRequest request, CancellationToken cancel)
    {
        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(cancel);
        }
        catch (IOException e) when (!cancel.IsCancellationRequested)
        {
            // Kestrel's reader throws IOException for a body that ends before its closing boundary, or a bad chunk.
            throw Problems.BadRequest($"the multipart body is malformed: {BodyError(e)}");
        }

        return form.Files.Count > 0 ? form.Files : throw Problems.BadRequest("the multipart body has no files; expected one or more image files");
    }

    /// <summary>
    /// JSON pixels, parsed now (a malformed body is refused before admission) and checked against the model that will
    /// run them when they are prepared, so a hot reload between the two cannot check them against one model and run
    /// them on another.
    /// </summary>
    private static async Task<ReceivedImages> ReadPixelsAsync(HttpRequest request, long maxBody, CancellationToken cancel)
    {
        var bytes = await ReadBodyAsync(request, maxBody, cancel);
        // A UTF-8 byte order mark before the JSON (Windows editors write one) is allowed by RFC 8259 §8.1 to be ignored.
        var json = bytes.AsSpan().StartsWith("\uFEFF"u8) ? bytes.AsSpan(3) : bytes.AsSpan();
        var body = JsonSerializer.Deserialize(json, ServeJson.Default.PixelsRequest)
            ?? throw Problems.BadRequest("the JSON body is null; expected {\"pixels\": [...]} or {\"images\": [[...], ...]}");
        static PreparedImage Image(CnnModel model, float[] pixels, int i)
        {
            var shape = model.Card.Input.Shape;
            var range = model.Card.Input.Range;
            if (pixels.Length != shape.Length)
            {
                throw Problems.BadRequest($"image {i} has {pixels.Length:N0} pixels; expected C·H·W = {shape.Channels}·{shape.Height}·{shape.Width} = {shape.Length:N0} floats in {range.Min:G}..{range.Max:G}");
            }

            // A value outside the range the model was trained on would be answered, confidently and meaninglessly.
            int bad = Array.FindIndex(pixels, v => !(v >= range.Min && v <= range.Max));
            if (bad >= 0)
            {
                throw Problems.Unprocessable($"image {i}: pixel {bad:N0} is {pixels[bad].ToString(System.Globalization.CultureInfo.InvariantCulture)}; expected values in {range.Min:G}..{range.Max:G}, the model's input range");
            }

            CheckInk(model, pixels, i);
            return new PreparedImage($"image {i}", shape.Channels, shape.Height, shape.Width, pixels);
        }

        return body switch
        {
            { Pixels: { } pixels, Images: null } => new(m => [Image(m, pixels, 0)], false, 1),
            { Images: { Length: > 0 } images, Pixels: null } => new(m => [.. images.Select((p, i) => Image(m, p ?? [], i))], true, images.Length),
            _ => throw Problems.BadRequest("expected a JSON object with either \"pixels\": [C·H·W floats] or \"images\": [[...], ...] (not both, not empty)"),
        };
    }

    /// <summary>All images' pixels together, from their headers, against the request's budget: 413 before any is decoded.</summary>
    private static void CheckRequestPixels(CnnModel model, List<(string Name, byte[] Bytes)> files, long limit)
    {
        long total = 0;
        foreach (var (name, bytes) in files)
        {
            var (width, height) = ImagePreprocessor.Measure(bytes, name);
            total += (long)width * height;
        }

        if (total > limit)
        {
            throw Problems.TooLarge($"the request's {files.Count} images hold {total:N0} pixels in all; the limit is {limit:N0} (--max-request-pixels)");
        }
    }

    /// <summary>
    /// A digit model's pixels get the check an image gets: a frame with no strokes (every pixel within the contrast an
    /// image needs, 24 of 255 of the input range) would be answered with a confident guess.
    /// </summary>
    private static void CheckInk(CnnModel model, float[] pixels, int i)
    {
        if (model.Card.Preprocessing != Cnn.Contracts.PreprocessingKind.Digit)
        {
            return;
        }

        var range = model.Card.Input.Range;
        float min = pixels.Min(), max = pixels.Max();
        if (max - min < (range.Max - range.Min) * 24 / 255)
        {
            throw new NoInkException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"image {i}: no ink found: every pixel is within {min:G3}..{max:G3}; expected a digit's strokes, brighter than the background by at least {(range.Max - range.Min) * 24 / 255:G3}"));
        }
    }

    /// <summary>The formats the API decodes, told from their first bytes.</summary>
    private static string? Sniff(ReadOnlySpan<byte> bytes) =>
        bytes.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G']) ? "image/png"
        : bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]) ? "image/jpeg"
        : bytes.Length >= 12 && bytes.StartsWith("RIFF"u8) && bytes[8..12].SequenceEqual("WEBP"u8) ? "image/webp"
        : bytes.StartsWith("BM"u8) ? "image/bmp"
        : bytes.StartsWith("GIF8"u8) ? "image/gif"
        : bytes.StartsWith((ReadOnlySpan<byte>)[0, 0, 1, 0]) ? "image/x-icon"
        : null;

    /// <summary>An image whose bytes are not the type it was sent as is refused (415), not decoded as whatever it is.</summary>
    private static void CheckFormat(string declared, byte[] bytes, string source)
    {
        string? found = Sniff(bytes);
        if (found != null && found != declared)
        {
            throw Problems.Unsupported($"{source} was sent as {declared} but its bytes are {found}; expected {string.Join(", ", ImageTypes)}, sent as what it is");
        }
    }

    /// <summary>Kestrel's reason for a body it could not read (a bad chunk size's OverflowException is inside an IOException).</summary>
    private static string BodyError(IOException e) => e.InnerException is { } inner ? $"{e.Message} ({inner.Message})" : e.Message;

    /// <summary>The whole body, refused with 413 once it passes <paramref name="max"/> bytes.</summary>
    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, long max, CancellationToken cancel)
    {
        using var memory = new MemoryStream(request.ContentLength is { } length and <= int.MaxValue ? (int)length : 16 * 1024);
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int read;
            while ((read = await ReadChunkAsync(request.Body, buffer, cancel)) > 0)
            {
                if (memory.Length + read > max)
                {
                    throw Problems.TooLarge($"the body is over {max:N0} bytes (--max-body)");
                }

                memory.Write(buffer, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return memory.Length == memory.Capacity ? memory.GetBuffer() : memory.ToArray();
    }

    /// <summary>One read of the body; a body Kestrel cannot read (a malformed chunk size) is the client's 400, not a 500.</summary>
    private static async ValueTask<int> ReadChunkAsync(Stream body, byte[] buffer, CancellationToken cancel)
    {
        try
        {
            return await body.ReadAsync(buffer, cancel);
        }
        catch (IOException e) when (!cancel.IsCancellationRequested)
        {
            throw Problems.BadRequest($"the body could not be read: {BodyError(e)}");
        }
    }
}
