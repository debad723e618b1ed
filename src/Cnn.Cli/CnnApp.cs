using Cnn.Cli.Commands;
using Cnn.Commands;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Cnn.Cli;

/// <summary>The <c>cnn</c> command tree, shared by the program and the in-process CLI tests.</summary>
internal static class CnnApp
{
    /// <param name="config">Spectre's configurator.</param>
    /// <param name="errors">Where error lines go (stderr in the program).</param>
    /// <param name="args">The command line, to name the option in conversion errors.</param>
    public static void Configure(IConfigurator config, IAnsiConsole errors, IReadOnlyList<string> args)
    {
        config.SetApplicationName("cnn");
        // An unknown or misspelt option is an error (exit 2), never silently ignored.
        config.UseStrictParsing();
        config.AddBranch("train", train =>
        {
            train.SetDescription("Train a model into a run folder (weights, config.json, metrics.csv, summary.json).");
            train.AddCommand<TrainLeNetCommand>("lenet")
                .WithDescription(Train.Recipes.Recipes.LeNet.Summary)
                .WithExample("train", "lenet")
                .WithExample("train", "lenet", "--dataset", "mnist")
                .WithExample("train", "lenet", "--dataset", "fashion-mnist", "--epochs", "15");
            train.AddCommand<TrainCifarCommand>("cifar")
                .WithDescription(Train.Recipes.Recipes.Cifar.Summary)
                .WithExample("train", "cifar", "--data", "data/cifar-100-binary", "--device", "cuda");
        });
        config.AddCommand<SweepCommand>("sweep")
            .WithDescription("Train every combination of learning rate, width and seed; write sweep.csv and sweep.md. Resumable.")
            .WithExample("sweep", "lenet", "--lr", "1e-3,3e-3", "--width", "0.5,1,2");
        config.AddCommand<ReportCommand>("report")
            .WithDescription("One Markdown page with a run's metrics, curves, confusion matrix, mistakes, architecture and feature maps.")
            .WithExample("report", "runs/lenet-mnist-20261202-101500", "--image", "my-seven.png");
        config.AddCommand<ExportCommand>("export")
            .WithDescription("Write a run's model as ONNX: FILE.onnx (logits, probabilities) and FILE.features.onnx (+ every conv and pool output).")
            .WithExample("export", "runs/lenet-mnist-20261202-101500");
        config.AddCommand<VerifyCommand>("verify")
            .WithDescription("Check an exported ONNX file against TorchSharp on test images and random inputs; exit 1 above tolerance.")
            .WithExample("verify", "runs/x/model.onnx", "--run", "runs/x");
        config.AddCommand<PredictCommand>("predict")
            .WithDescription("Label and top classes of images (photos or drawings of digits are preprocessed like MNIST).")
            .WithExample("predict", "models/lenet5-mnist.onnx", "my-seven.jpg", "--sheet", "sheet.png");
        config.AddCommand<FeatureMapsCommand>("featuremaps")
            .WithDescription("Feature-map grids (PNG) and values (.npy) of one image, per conv and pool layer.")
            .WithExample("featuremaps", "models/lenet5-mnist.onnx", "my-seven.jpg", "--layers", "conv1,pool1,conv2");
        config.AddCommand<DescribeCommand>("describe")
            .WithDescription("Write the model card of another producer's ONNX model beside it, so predict, featuremaps and serve read it")
            .WithExample("describe", "mnist-cnn.onnx", "--labels", "0,1,2,3,4,5,6,7,8,9", "--preprocessing", "digit", "--mean", "0.1307", "--std", "0.3081");
        config.AddCommand<InspectCommand>("inspect")
            .WithDescription("Every tensor of an ONNX graph: name, operator, type and shape (any ONNX file)")
            .WithExample("inspect", "models/lenet5-handwriting.onnx");
        config.AddCommand<ServeCommand>("serve")
            .WithDescription("Serve models over HTTP (API v1, metrics, OpenAPI) with the draw-a-digit explorer page at /.")
            .WithExample("serve", "models/lenet5-handwriting.onnx")
            .WithExample("serve", "models/lenet5-handwriting.onnx", "--urls", "http://0.0.0.0:8080", "--quiet");
        config.SetExceptionHandler((exception, _) => ErrorReport.Print(errors, exception, args));
    }
}
