using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
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
    /// <summary>Registers the served models, metrics, JSON and the bounded admission to inference.</summary>
    /// <param name="services">The host's services.</param>
    /// <param name="options">What to serve and the limits; validated here.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddCnnServe(this IServiceCollection services, ServeOptions options) =>
        services.AddValidatedCnnServe(options.Validated());

    /// <summary>What <see cref="AddCnnServe"/> registers, for options already validated (by <see cref="CnnServer.Build"/>).</summary>
    internal static IServiceCollection AddValidatedCnnServe(this IServiceCollection services, ServeOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton<ServeMetrics>();
        services.AddSingleton<ModelRegistry>();
        services.AddHostedService(provider => provider.GetRequiredService<ModelRegistry>());
        // Typed results and request bodies go through the framework's options: the same settings as ServeJson.Api.
        services.ConfigureHttpJsonOptions(json => ServeJson.Configure(json.SerializerOptions).TypeInfoResolverChain.Insert(0, ServeJson.Default));
        services.AddProblemDetails();
        services.AddExceptionHandler<ProblemExceptionHandler>();
        if (options.AllowedHosts.Count > 0)
        {
            services.AddHostFiltering(filter => filter.AllowedHosts = [.. options.AllowedHosts]);
        }

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
        services.AddSingleton<InferenceGate>();
        services.AddSingleton<FeatureMemory>();
        return services;
    }

    /// <summary>
    /// Mounts everything: request log lines (unless quiet), HTTP metrics, problems, browser security, API v1 under /v1/models,
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

        if (options.AllowedHosts.Count > 0)
        {
            app.UseHostFiltering();
        }

        // Empty error responses (415 from content negotiation, 404 for unknown routes, 405) get an RFC 9457 body too.
        app.UseStatusCodePages();
        app.UseRouting();
        app.UseHttpMetrics(o => o.SetMetricFactory(Prometheus.Metrics.WithCustomRegistry(metrics.Registry)));
        // Inside the log and the metrics, so both see the status the handler sends, 4xx problem or 500.
        app.UseExceptionHandler();
        app.UseMiddleware<BrowserGuard>();
        ModelEndpoints.Map(app);
        app.MapGet("/healthz", () => TypedResults.Text("ok")).WithTags("operations").WithSummary("The process is alive");
        app.MapGet("/readyz", Results<ContentHttpResult, ProblemHttpResult> (ModelRegistry registry) => registry.Ready
                ? TypedResults.Text("ready")
                : TypedResults.Problem(statusCode: 503, title: "Not ready", detail: registry.Stopping ? "the server is stopping" : "models are loading"))
            .WithTags("operations").WithSummary("Every model is loaded and warm");
        app.MapMetrics("/metrics", metrics.Registry);
        app.MapOpenApi();
        app.MapScalarApiReference();
        ExplorerPage.Map(app);
        return app;
    }
}
