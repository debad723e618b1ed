using Microsoft.AspNetCore.Http;

namespace Cnn.Serve;

/// <summary>
/// What a browser needs told: security headers on every response (the page runs no inline script and loads nothing
/// from elsewhere, so its policy is 'self'), and no cross-site writes. A page on another origin can make a visitor's
/// browser POST a form to this server without a CORS preflight (a "simple" request); such a request is refused with
/// 403 unless its origin is one the operator allowed (<see cref="ServeOptions.CorsOrigins"/>), which then also gets
/// the CORS headers its scripts need. Requests without an Origin header (curl, apps, same-origin GETs) pass.
/// </summary>
internal sealed class BrowserGuard(RequestDelegate next, ServeOptions options)
{
    // The API page (Scalar) renders with an inline bootstrap script and inline styles; everything else gets the strict policy.
    private const string PagePolicy = "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
    private const string ApiPagePolicy = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

    public Task InvokeAsync(HttpContext context)
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = context.Request.Path.StartsWithSegments("/scalar") ? ApiPagePolicy : PagePolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";

        string? origin = context.Request.Headers.Origin;
        if (string.IsNullOrEmpty(origin) || HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method))
        {
            return next(context);
        }

        if (options.CorsOrigins.Contains(origin, StringComparer.OrdinalIgnoreCase))
        {
            headers.AccessControlAllowOrigin = origin;
            headers.Vary = "Origin";
            if (HttpMethods.IsOptions(context.Request.Method))
            {
                headers.AccessControlAllowMethods = "GET, POST";
                headers.AccessControlAllowHeaders = "Content-Type";
                headers.AccessControlMaxAge = "600";
                context.Response.StatusCode = StatusCodes.Status204NoContent;
                return Task.CompletedTask;
            }

            return next(context);
        }

        if (SameOrigin(context.Request, origin))
        {
            return next(context);
        }

        throw new ApiException(StatusCodes.Status403Forbidden, "Cross-origin request refused",
            $"a page on {origin} asked this server for {context.Request.Method} {context.Request.Path}; cross-origin writes are refused unless the operator allows the origin (cnn serve --cors-origin {origin})");
    }

    private static bool SameOrigin(HttpRequest request, string origin) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri)
        && string.Equals(uri.Scheme, request.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);
}
