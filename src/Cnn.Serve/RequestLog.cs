using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Cnn.Serve;

/// <summary>One log line per request: method, path, status and milliseconds.</summary>
internal sealed class RequestLog(RequestDelegate next, ILogger<RequestLog> log)
{
    public async Task InvokeAsync(HttpContext context)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            log.LogInformation("{Method} {Path}{Query} {Status} {Ms:F1} ms", context.Request.Method, context.Request.Path, context.Request.QueryString,
                context.Response.StatusCode, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
    }
}
