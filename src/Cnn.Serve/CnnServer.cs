using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cnn.Serve;

/// <summary>The stand-alone server `cnn serve` runs: Kestrel on <see cref="ServeOptions.Urls"/> with everything mounted.</summary>
public static class CnnServer
{
    /// <summary>Builds the server; run it with <c>RunAsync</c>. It stops gracefully on SIGTERM and Ctrl-C.</summary>
    /// <param name="options">What to serve.</param>
    /// <returns>The application, not started.</returns>
    public static WebApplication Build(ServeOptions options)
    {
        options = options.Validated();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseUrls(options.Urls);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = options.MaxBodyBytes);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "HH:mm:ss ";
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
        // A model that cannot be loaded stops the start with an exception the caller reports in one line (a stack
        // trace only for a bug); the host's own "Hosting failed to start" log would print the trace for every typo.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        // The drain runs inside the host's shutdown, so the in-flight requests still get their 10 s after it.
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.DrainDelay + TimeSpan.FromSeconds(10));
        builder.Services.AddValidatedCnnServe(options);
        var app = builder.Build();
        app.UseCnnServe();
        return app;
    }
}
