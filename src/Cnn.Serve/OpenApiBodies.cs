using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Cnn.Serve;

/// <summary>
/// Documents the request bodies of predict and featuremaps, which the handlers read themselves (so that an unsupported
/// Content-Type gets a 415 naming what is accepted, rather than routing's bare 415).
/// </summary>
internal static class OpenApiBodies
{
    private static readonly string[] Images = ["image/png", "image/jpeg", "image/webp", "image/bmp"];

    public static Task Describe(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancel)
    {
        if (!context.Description.ActionDescriptor.EndpointMetadata.OfType<ImageBodyMetadata>().Any())
        {
            return Task.CompletedTask;
        }

        var body = new OpenApiRequestBody
        {
            Required = true,
            Description = "An encoded image; or multipart/form-data with one or more image files; or JSON {\"pixels\": [C·H·W floats in 0..1]} or {\"images\": [[...], ...]}.",
            Content = new Dictionary<string, OpenApiMediaType>(),
        };
        foreach (var type in Images)
        {
            body.Content[type] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" } };
        }

        body.Content["multipart/form-data"] = new OpenApiMediaType
        {
            Schema = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Properties = new Dictionary<string, IOpenApiSchema> { ["file"] = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" } },
            },
        };
        body.Content["application/json"] = new OpenApiMediaType
        {
            Schema = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Properties = new Dictionary<string, IOpenApiSchema>
                {
                    ["pixels"] = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.Number } },
                    ["images"] = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.Number } } },
                },
            },
        };
        operation.RequestBody = body;
        OneOrMany(operation);
        return Task.CompletedTask;
    }

    /// <summary>
    /// The handlers' <c>Results&lt;Ok&lt;T&gt;, Ok&lt;T[]&gt;&gt;</c>: the framework keeps one schema per status (the array), so
    /// the 200 says both: one object for a single image, an array for a list.
    /// </summary>
    private static void OneOrMany(OpenApiOperation operation)
    {
        if (operation.Responses is { } responses && responses.TryGetValue("200", out var ok)
            && ok.Content is { } content && content.TryGetValue("application/json", out var json) && json.Schema is { Items: { } item } list)
        {
            json.Schema = new OpenApiSchema { OneOf = [item, list] };
            ok.Description = "One object for a single image (an image body or {\"pixels\"}); an array, in order, for a list (multipart files or {\"images\"})";
        }
    }
}
