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
internal sealed record ReceivedImages(Func<CnnModel, IReadOnlyList<PreparedImage>> Decode, bool IsList)
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

    public static async Task<ReceivedImages> ReadAsync(HttpRequest request, CnnModel model, ServeOptions options, CancellationToken cancel)
    {
        string type = request.ContentType?.Split(';')[0].Trim().ToLowerInvariant() ?? "";
        long maxBody = options.MaxBodyBytes;
        if (request.ContentLength > maxBody)
        {
            throw Problems.TooLarge($"the body is {request.ContentLength:N0} bytes; the limit is {maxBody:N0} (--max-body)");
        }

        if (ImageTypes.Contains(type))
        {
            var bytes = await ReadBodyAsync(request, maxBody, cancel);
            return new ReceivedImages(m => [m.Prepare(m.Decode(bytes, "the request body"))], false);
        }

        if (type == "multipart/form-data")
        {
            var files = await ReadFormAsync(request, cancel);
            var encoded = files.Select(file =>
            {
                using var stream = file.OpenReadStream();
                using var memory = new MemoryStream();
                stream.CopyTo(memory);
                return (Name: string.IsNullOrEmpty(file.FileName) ? file.Name : file.FileName, Bytes: memory.ToArray());
            }).ToList();
            return new ReceivedImages(m =>
            {
                CheckRequestPixels(m, encoded, options.MaxRequestPixels);
                return [.. encoded.Select(file => m.Prepare(m.Decode(file.Bytes, file.Name)))];
            }, true);
        }

        if (type == "application/json")
        {
            return await ReadPixelsAsync(request, model, maxBody, cancel);
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
            // Kestrel's reader throws IOException for a body that ends before its closing boundary.
            throw Problems.BadRequest($"the multipart body is malformed: {e.Message}");
        }

        return form.Files.Count > 0 ? form.Files : throw Problems.BadRequest("the multipart body has no files; expected one or more image files");
    }

    private static async Task<ReceivedImages> ReadPixelsAsync(HttpRequest request, CnnModel model, long maxBody, CancellationToken cancel)
    {
        var bytes = await ReadBodyAsync(request, maxBody, cancel);
        var body = JsonSerializer.Deserialize(bytes, ServeJson.Default.PixelsRequest)
            ?? throw Problems.BadRequest("the JSON body is null; expected {\"pixels\": [...]} or {\"images\": [[...], ...]}");
        var shape = model.Card.Input.Shape;
        var range = model.Card.Input.Range;
        PreparedImage Image(float[] pixels, int i)
        {
            if (pixels.Length != shape.Length)
            {
                throw Problems.BadRequest($"image {i} has {pixels.Length:N0} pixels; expected C·H·W = {shape.Channels}·{shape.Height}·{shape.Width} = {shape.Length:N0} floats in {range.Min:G}..{range.Max:G}");
            }

            // A value outside the range the model was trained on would be answered, confidently and meaninglessly.
            int bad = Array.FindIndex(pixels, v => !(v >= range.Min && v <= range.Max));
            return bad < 0
                ? new PreparedImage($"image {i}", shape.Channels, shape.Height, shape.Width, pixels)
                : throw Problems.Unprocessable($"image {i}: pixel {bad:N0} is {pixels[bad].ToString(System.Globalization.CultureInfo.InvariantCulture)}; expected values in {range.Min:G}..{range.Max:G}, the model's input range");
        }

        return body switch
        {
            { Pixels: { } pixels, Images: null } => Ready([Image(pixels, 0)], false),
            { Images: { Length: > 0 } images, Pixels: null } => Ready([.. images.Select((p, i) => Image(p ?? [], i))], true),
            _ => throw Problems.BadRequest("expected a JSON object with either \"pixels\": [C·H·W floats] or \"images\": [[...], ...] (not both, not empty)"),
        };
    }

    /// <summary>All images' pixels together, from their headers, against the request's budget: 413 before any is decoded.</summary>
    private static void CheckRequestPixels(CnnModel model, List<(string Name, byte[] Bytes)> files, long limit)
    {
        long total = 0;
        foreach (var (name, bytes) in files)
        {
            var (width, height) = model.MeasureImage(bytes, name);
            total += (long)width * height;
        }

        if (total > limit)
        {
            throw Problems.TooLarge($"the request's {files.Count} images hold {total:N0} pixels in all; the limit is {limit:N0} (--max-request-pixels)");
        }
    }

    /// <summary>Pixels need no decoding: they were checked as they were read.</summary>
    private static ReceivedImages Ready(IReadOnlyList<PreparedImage> images, bool isList) => new(_ => images, isList);

    /// <summary>The whole body, refused with 413 once it passes <paramref name="max"/> bytes.</summary>
    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, long max, CancellationToken cancel)
    {
        using var memory = new MemoryStream(request.ContentLength is { } length and <= int.MaxValue ? (int)length : 16 * 1024);
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(buffer, cancel)) > 0)
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
}
