using Cnn.Inference;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Cnn.Serve;

/// <summary>An error with the HTTP status and RFC 9457 problem it becomes.</summary>
internal sealed class ApiException(int status, string title, string detail) : Exception(detail)
{
    public int Status { get; } = status;

    public string Title { get; } = title;

    /// <summary>Sent as Retry-After when set (503 Busy).</summary>
    public int? RetryAfterSeconds { get; init; }
}

/// <summary>Maps what can go wrong with a request to RFC 9457 problems; bad input is never a 5xx.</summary>
internal static class Problems
{
    public static ApiException NotFound(string detail) => new(StatusCodes.Status404NotFound, "Not found", detail);

    public static ApiException BadRequest(string detail) => new(StatusCodes.Status400BadRequest, "Bad request", detail);

    public static ApiException TooLarge(string detail) => new(StatusCodes.Status413PayloadTooLarge, "Payload too large", detail);

    public static ApiException Unsupported(string detail) => new(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", detail);

    public static ApiException Unprocessable(string detail) => new(StatusCodes.Status422UnprocessableEntity, "Unprocessable image", detail);

    /// <summary>The problem of a status this API answers with (400, 404, 413, 415, 422).</summary>
    public static ApiException Of(int status, string detail) => status switch
    {
        StatusCodes.Status404NotFound => NotFound(detail),
        StatusCodes.Status413PayloadTooLarge => TooLarge(detail),
        StatusCodes.Status415UnsupportedMediaType => Unsupported(detail),
        StatusCodes.Status422UnprocessableEntity => Unprocessable(detail),
        _ => BadRequest(detail),
    };

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
        return detail == problem.Message ? problem : new ApiException(problem.Status, problem.Title, detail) { RetryAfterSeconds = problem.RetryAfterSeconds };
    }

    private static ApiException? For(Exception e) => e switch
    {
        ApiException api => api,
        ImageTooLargeException => TooLarge(e.Message),
        InvalidImageException or NoInkException => Unprocessable(e.Message),
        InputShapeException => BadRequest(e.Message),
        UnknownOutputException => NotFound(e.Message),
        System.Text.Json.JsonException => BadRequest($"the body is not valid JSON: {e.Message}"),
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => TooLarge(e.Message),
        BadHttpRequestException bad => new(bad.StatusCode, "Bad request", e.Message),
        InvalidDataException => BadRequest(e.Message),
        _ => null,
    };

    public static ProblemHttpResult Result(ApiException e, HttpContext context) => TypedResults.Problem(
        statusCode: e.Status, title: e.Title, detail: Cnn.Contracts.DisplayText.Escape(e.Message), instance: context.Request.Path);
}

/// <summary>
/// The one place an exception becomes a response: a client's mistake its RFC 9457 problem (never a 5xx), anything else
/// left to the framework's 500 problem. It runs inside the request log and the HTTP metrics, so both record the
/// status that was sent.
/// </summary>
internal sealed class ProblemExceptionHandler(ModelRegistry registry) : Microsoft.AspNetCore.Diagnostics.IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (Problems.For(exception, registry) is not { } problem)
        {
            return false;
        }

        context.Response.StatusCode = problem.Status;
        if (problem.RetryAfterSeconds is { } seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        await Problems.Result(problem, context).ExecuteAsync(context);
        return true;
    }
}
