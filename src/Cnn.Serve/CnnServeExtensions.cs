using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Prometheus;
using Scalar.AspNetCore;

namespace Cnn.Serve;

/// <summary>
/// What a host app calls to serve cnn-exported models: <see cref="AddCnnServe"/> registers the models (loaded and warmed
/// when the host starts, reloaded when their files change), and <see cref="UseCnnServe"/> mounts the API, the operations
/// endpoints and the explorer page.
/// </summary>
public static class CnnServeExtensions
{
    /// <summary>Registers the served models, metrics, JSON and the bounded queue of inference requests.</summary>
    /// <param name="services">The host's services.</param>
    /// <param name="options">What to serve and the limits; validated here.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddCnnServe(this IServiceCollection services, ServeOptions options)
    {
        options = options.Validated();
        services.AddSingleton(options);
        services.AddSingleton<ServeMetrics>();
        services.AddSingleton<ModelRegistry>();
        services.AddHostedService(provider => provider.GetRequiredService<ModelRegistry>());
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, ServeJson.Default));
        services.AddProblemDetails();
        services.AddOpenApi(openApi =>
        {
            openApi.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "cnn serve";
                document.Info.Description = "Predictions, feature maps and conv kernels of CNNs exported by `cnn export`.";
                return Task.CompletedTask;
            });
            openApi.AddOperationTransformer(OpenApiBodies.Describe);
        });
        services.AddRateLimiter(limiter =>
        {
            // At most a core's worth of inference runs at once; up to MaxConcurrency more wait their turn, and past
            // that a request gets 503 at once instead of joining an unbounded pile-up.
            limiter.AddConcurrencyLimiter(ModelEndpoints.RateLimitPolicy, o =>
            {
                o.PermitLimit = Environment.ProcessorCount;
                o.QueueLimit = options.MaxConcurrency;
                o.QueueProcessingOrder = QueueProcessingOrder.OldestFirst;
            });
            limiter.OnRejected = async (context, cancel) =>
            {
                var http = context.HttpContext;
                http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                http.Response.Headers.RetryAfter = "1";
                await Results.Problem(statusCode: 503, title: "Busy",
                    detail: $"more than {options.MaxConcurrency} inference requests are waiting (--max-concurrency); retry after 1 s",
                    instance: http.Request.Path).ExecuteAsync(http);
            };
        });
        return services;
    }

    /// <summary>
    /// Mounts everything: request log lines (unless quiet), HTTP metrics, the bounded queue, API v1 under /v1/models,
    /// /healthz, /readyz, /metrics, /openapi/v1.json, the API page at /scalar and the explorer page at /.
    /// </summary>
    /// <param name="app">The host's application.</param>
    /// <returns>The application.</returns>
    public static WebApplication UseCnnServe(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<ServeOptions>();
        var metrics = app.Services.GetRequiredService<ServeMetrics>();
        if (!options.Quiet)
        {
            app.UseMiddleware<RequestLog>();
        }

        // Empty error responses (415 from content negotiation, 404 for unknown routes, 405) get an RFC 9457 body too.
        app.UseStatusCodePages();
        app.UseRouting();
        app.UseHttpMetrics(o => o.SetMetricFactory(Prometheus.Metrics.WithCustomRegistry(metrics.Registry)));
        app.UseRateLimiter();
        ModelEndpoints.Map(app);
        app.MapGet("/healthz", () => Results.Text("ok")).WithTags("operations").WithSummary("The process is alive");
        app.MapGet("/readyz", (ModelRegistry registry) => registry.Ready ? Results.Text("ready") : Results.Problem(statusCode: 503, title: "Not ready", detail: "models are loading"))
            .WithTags("operations").WithSummary("Every model is loaded and warm");
        app.MapMetrics("/metrics", metrics.Registry);
        app.MapOpenApi();
        app.MapScalarApiReference();
        ExplorerPage.Map(app);
        return app;
    }
}
