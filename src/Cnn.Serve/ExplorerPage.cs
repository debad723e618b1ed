using System.Collections.Frozen;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Cnn.Serve;

/// <summary>The explorer page: HTML, CSS and JavaScript embedded in this assembly, served as they are (no build step, no CDN).</summary>
internal static class ExplorerPage
{
    private static readonly FrozenDictionary<string, string> Types = new Dictionary<string, string>
    {
        [".html"] = "text/html; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
    }.ToFrozenDictionary();

    public static void Map(WebApplication app)
    {
        var files = typeof(ExplorerPage).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith("wwwroot/", StringComparison.Ordinal))
            .ToFrozenDictionary(n => n["wwwroot/".Length..], Read);
        foreach (var (name, bytes) in files)
        {
            string type = Types.GetValueOrDefault(Path.GetExtension(name), "application/octet-stream");
            app.MapMethods(name == "index.html" ? "/" : $"/{name}", [HttpMethods.Get, HttpMethods.Head], () => TypedResults.Bytes(bytes, type)).ExcludeFromDescription();
        }

        // Browsers ask for it on their own; the page declares none, so answer "nothing" rather than 404.
        app.MapGet("/favicon.ico", () => TypedResults.NoContent()).ExcludeFromDescription();
    }

    private static byte[] Read(string resource)
    {
        using var stream = typeof(ExplorerPage).Assembly.GetManifestResourceStream(resource)!;
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray();
    }
}
