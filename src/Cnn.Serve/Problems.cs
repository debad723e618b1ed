using Cnn.Inference;
using Microsoft.AspNetCore.Http;

namespace Cnn.Serve;

/// <summary>An error with the HTTP status and RFC 9457 problem it becomes.</summary>
internal sealed class ApiException(int status, string title, string detail) : Exception(detail)
{
    public int Status { get; } = status;

    public string Title { get; } = title;
}

/// <summary>Maps what can go wrong with a request to RFC 9457 problems; bad input is never a 5xx.</summary>
internal static class Problems
{
    public static ApiException NotFound(string detail) => new(StatusCodes.Status404NotFound, "Not found", detail);

    public static ApiException BadRequest(string detail) => new(StatusCodes.Status400BadRequest, "Bad request", detail);

    public static ApiException TooLarge(string detail) => new(StatusCodes.Status413PayloadTooLarge, "Payload too large", detail);

    public static ApiException Unsupported(string detail) => new(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", detail);

    /// <summary>
    /// The problem for an exception, or null when it is not the request's fault. Model file paths in messages become
    /// model names: a client learns nothing about the server's disk.
    /// </summary>
    public static ApiException? For(Exception e, ModelRegistry registry)
    {
        var problem = For(e);
        if (problem == null)
        {
            return null;
        }

        string detail = registry.Models.Aggregate(problem.Message, (text, m) => text.Replace(m.Current.Source, m.Name, StringComparison.Ordinal));
        return detail == problem.Message ? problem : new ApiException(problem.Status, problem.Title, detail);
    }

    private static ApiException? For(Exception e) => e switch
    {
        ApiException api => api,
        ImageTooLargeException => TooLarge(e.Message),
        InvalidImageException or NoInkException => new(StatusCodes.Status422UnprocessableEntity, "Unprocessable image", e.Message),
        InputShapeException => BadRequest(e.Message),
        UnknownOutputException => NotFound(e.Message),
        System.Text.Json.JsonException => BadRequest($"the body is not valid JSON: {e.Message}"),
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => TooLarge(e.Message),
        BadHttpRequestException bad => new(bad.StatusCode, "Bad request", e.Message),
        InvalidDataException => BadRequest(e.Message),
        _ => null,
    };

    public static IResult Result(ApiException e, HttpContext context) => Microsoft.AspNetCore.Http.Results.Problem(
        statusCode: e.Status, title: e.Title, detail: e.Message, instance: context.Request.Path);
}
