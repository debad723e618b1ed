using System.Net.Http.Headers;
using Cnn.Tests;
using Microsoft.AspNetCore.Builder;

namespace Cnn.Serve.Tests;

/// <summary>A real Kestrel on a free loopback port, serving copies of the committed model from a temp folder.</summary>
public sealed class TestServer : IAsyncDisposable
{
    private readonly TempFolder _dir = new();
    private WebApplication? _app;

    private readonly string _model;

    private TestServer(string model)
    {
        _model = model;
    }

    public string Folder => _dir.Path;

    public string ModelPath => _dir.Combine(_model + ".onnx");

    public HttpClient Client { get; private set; } = null!;

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The running server's services, for tests that act as the server's own parts would.</summary>
    public IServiceProvider Services => _app!.Services;

    /// <summary>Serves a copy of models/<paramref name="model"/>.onnx and its features file (the seed's net unless named).</summary>
    public static async Task<TestServer> StartAsync(Func<ServeOptions, ServeOptions>? configure = null, string model = "lenet5-mnist")
    {
        var server = new TestServer(model);
        File.Copy(Path.Combine(Repository.Root, "models", model + ".onnx"), server.ModelPath);
        File.Copy(Path.Combine(Repository.Root, "models", model + ".features.onnx"), server._dir.Combine(model + ".features.onnx"));
        var options = new ServeOptions
        {
            ModelPaths = [server.ModelPath],
            Urls = "http://127.0.0.1:0",
            Quiet = true,
            MaxBodyBytes = 2_000_000,
            MaxImagePixels = 4_000_000,
            MaxRequestPixels = 5_000_000,
            ReloadDelay = TimeSpan.FromMilliseconds(100),
            DrainDelay = TimeSpan.FromMilliseconds(50),
        };
        server._app = CnnServer.Build(configure?.Invoke(options) ?? options);
        await server._app.StartAsync();
        server.BaseAddress = new Uri(server._app.Urls.Single());
        // A request sent with Expect: 100-continue waits for the server's answer before writing its body; the handler's
        // default gives up after 1 s and writes the body anyway, which on a loaded machine races a 413 into a broken
        // pipe. Kestrel sends 100 as soon as an endpoint reads the body, so no other request waits longer.
        var handler = new SocketsHttpHandler { Expect100ContinueTimeout = TimeSpan.FromSeconds(30) };
        server.Client = new HttpClient(handler) { BaseAddress = server.BaseAddress };
        return server;
    }

    public Task<HttpResponseMessage> PostAsync(string path, byte[] body, string type)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(type);
        return Client.PostAsync(path, content);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (_app != null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        _dir.Dispose();
    }
}

/// <summary>One server shared by a test class's tests (they do not change its models).</summary>
public sealed class SharedServer : IAsyncLifetime
{
    public TestServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
