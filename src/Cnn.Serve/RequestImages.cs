using System.Buffers;
using System.Text.Json;
using Cnn.Inference;
using Microsoft.AspNetCore.Http;

namespace Cnn.Serve;

/// <summary>The images of a request as model inputs, and whether the body was a list (answered with an array).</summary>
internal sealed record RequestImages(IReadOnlyList<PreparedImage> Images, bool IsList);

/// <summary>
/// Reads a request body in any of the forms the API takes: an encoded image (PNG, JPEG, WebP, BMP), multipart/form-data
/// with one or more image files, or JSON pixels (<c>{"pixels": [...]}</c> or <c>{"images": [[...], ...]}</c>). Images are
/// decoded and prepared exactly as <c>cnn predict</c> prepares a file.
/// </summary>
internal static class RequestImageReader
{
    private static readonly string[] ImageTypes = ["image/png", "image/jpeg", "image/webp", "image/bmp"];

    public static async Task<RequestImages> ReadAsync(HttpRequest request, CnnModel model, long maxBody, CancellationToken cancel)
    {
        string type = request.ContentType?.Split(';')[0].Trim().ToLowerInvariant() ?? "";
        if (request.ContentLength > maxBody)
        {
            throw Problems.TooLarge($"the body is {request.ContentLength:N0} bytes; the limit is {maxBody:N0} (--max-body)");
        }

        if (ImageTypes.Contains(type))
        {
            var bytes = await ReadBodyAsync(request, maxBody, cancel);
            return new RequestImages([model.Prepare(model.Decode(bytes, "the request body"))], false);
        }

        if (type == "multipart/form-data")
        {
            return new RequestImages(await ReadFormAsync(request, model, cancel), true);
        }

        if (type == "application/json")
        {
            return await ReadPixelsAsync(request, model, maxBody, cancel);
        }

        throw Problems.Unsupported(
            $"Content-Type '{(type.Length == 0 ? "(none)" : type)}'; expected {string.Join(", ", ImageTypes)}, multipart/form-data or application/json");
    }

    private static async Task<IReadOnlyList<PreparedImage>> ReadFormAsync(HttpRequest request, CnnModel model, CancellationToken cancel)
    {
        var form = await request.ReadFormAsync(cancel);
        if (form.Files.Count == 0)
        {
            throw Problems.BadRequest("the multipart body has no files; expected one or more image files");
        }

        var images = new List<PreparedImage>(form.Files.Count);
        foreach (var file in form.Files)
        {
            using var stream = file.OpenReadStream();
            images.Add(model.Prepare(model.Decode(stream, string.IsNullOrEmpty(file.FileName) ? file.Name : file.FileName)));
        }

        return images;
    }

    private static async Task<RequestImages> ReadPixelsAsync(HttpRequest request, CnnModel model, long maxBody, CancellationToken cancel)
    {
        var bytes = await ReadBodyAsync(request, maxBody, cancel);
        var body = JsonSerializer.Deserialize(bytes, ServeJson.Default.PixelsRequest)
            ?? throw Problems.BadRequest("the JSON body is null; expected {\"pixels\": [...]} or {\"images\": [[...], ...]}");
        var shape = model.Card.Input.Shape;
        PreparedImage Image(float[] pixels, int i) => pixels.Length == shape.Length
            ? new PreparedImage($"image {i}", shape.Channels, shape.Height, shape.Width, pixels)
            : throw Problems.BadRequest($"image {i} has {pixels.Length:N0} pixels; expected C·H·W = {shape.Channels}·{shape.Height}·{shape.Width} = {shape.Length:N0} floats in 0..1");
        return body switch
        {
            { Pixels: { } pixels, Images: null } => new RequestImages([Image(pixels, 0)], false),
            { Images: { Length: > 0 } images, Pixels: null } => new RequestImages([.. images.Select((p, i) => Image(p ?? [], i))], true),
            _ => throw Problems.BadRequest("expected a JSON object with either \"pixels\": [C·H·W floats] or \"images\": [[...], ...] (not both, not empty)"),
        };
    }

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
