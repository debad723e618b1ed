namespace Cnn.Tests;

/// <summary>A temp folder removed after the test.</summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = Directory.CreateTempSubdirectory("cnn-test-").FullName;
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A test that failed may still hold a file open; the OS temp cleaner gets it.
        }
        catch (UnauthorizedAccessException)
        {
            // A test that made a folder unreadable restores it itself; if it failed first, the temp cleaner gets it.
        }
    }
}

/// <summary>Paths in this repository: the committed model and the embedded data set.</summary>
public static class Repository
{
    public static string Root { get; } = typeof(Repository).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
        .Cast<System.Reflection.AssemblyMetadataAttribute>().Single(a => a.Key == "RepositoryRoot").Value!;

    public static string ModelPath => System.IO.Path.Combine(Root, "models", "lenet5-mnist.onnx");

    public static string FeaturesPath => System.IO.Path.Combine(Root, "models", "lenet5-mnist.features.onnx");

    /// <summary>The committed ensemble of two width-4 LeNet-5s (models/README.md), the distilled net's teacher.</summary>
    public static string EnsemblePath => System.IO.Path.Combine(Root, "models", "lenet5-mnist-ensemble.onnx");

    /// <summary>The file stem of the explorer page's default model in models/ (README's `cnn serve` example).</summary>
    public const string ExplorerModel = "lenet5-handwriting";

    /// <summary>The explorer page's default model file.</summary>
    public static string ExplorerModelPath => System.IO.Path.Combine(Root, "models", ExplorerModel + ".onnx");

    public static string DistilledPath => System.IO.Path.Combine(Root, "models", "lenet5-mnist-distilled.onnx");

    public static string DigitsFolder => System.IO.Path.Combine(Root, "data", "mnist-5k");
}
