using System.Security.Cryptography;

namespace Cnn.Train.Data;

/// <summary>A file to fetch: its name under each mirror's base address and its published MD5.</summary>
public sealed record RemoteFile(string Name, string Md5);

/// <summary>
/// Downloads files into a cache folder, trying each mirror in turn. A file lands under its final name only after its
/// MD5 matched (temp file + rename), so the cache never holds a partial or corrupt download.
/// </summary>
public sealed class Downloader(HttpClient http, Action<string>? log = null)
{
    /// <summary>Makes sure every file is in <paramref name="folder"/>; downloads only the missing ones.</summary>
    public async Task EnsureAsync(string folder, IReadOnlyList<Uri> mirrors, IReadOnlyList<RemoteFile> files, CancellationToken cancel = default)
    {
        if (mirrors.Count == 0)
        {
            throw new ArgumentException("at least one mirror is needed (got 0)", nameof(mirrors));
        }

        Directory.CreateDirectory(folder);
        foreach (var file in files)
        {
            string target = Path.Combine(folder, file.Name);
            if (File.Exists(target))
            {
                continue;
            }

            await DownloadAsync(target, mirrors, file, cancel).ConfigureAwait(false);
        }
    }

    private async Task DownloadAsync(string target, IReadOnlyList<Uri> mirrors, RemoteFile file, CancellationToken cancel)
    {
        var failures = new List<string>();
        string partial = target + ".partial";
        foreach (var mirror in mirrors)
        {
            var url = new Uri(mirror, file.Name);
            log?.Invoke($"downloading {url}");
            try
            {
                using (var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancel).ConfigureAwait(false))
                {
                    response.EnsureSuccessStatusCode();
                    await using var body = await response.Content.ReadAsStreamAsync(cancel).ConfigureAwait(false);
                    await using var output = File.Create(partial);
                    await body.CopyToAsync(output, cancel).ConfigureAwait(false);
                }

                string md5 = await Md5Async(partial, cancel).ConfigureAwait(false);
                if (!md5.Equals(file.Md5, StringComparison.OrdinalIgnoreCase))
                {
                    failures.Add($"{url}: MD5 {md5}, expected {file.Md5}");
                    continue;
                }

                File.Move(partial, target, overwrite: true);
                return;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException && !cancel.IsCancellationRequested)
            {
                failures.Add($"{url}: {e.Message}");
            }
            finally
            {
                // Whatever stopped the copy — a failed mirror, Ctrl-C, a full disk — no half-written file stays behind.
                File.Delete(partial);
            }
        }

        throw new IOException($"could not download {file.Name} into {Path.GetDirectoryName(target)}:\n  " + string.Join("\n  ", failures)
            + $"\nPut the file there by hand (MD5 {file.Md5}) to train offline.");
    }

    /// <summary>Lower-case hex MD5 of a file.</summary>
    public static async Task<string> Md5Async(string path, CancellationToken cancel = default)
    {
        await using var stream = File.OpenRead(path);
        var hash = await MD5.HashDataAsync(stream, cancel).ConfigureAwait(false);
        return Convert.ToHexStringLower(hash);
    }
}
