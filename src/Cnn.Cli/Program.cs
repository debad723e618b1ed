using Cnn.Cli;
using Cnn.Cli.Commands;
using Spectre.Console;
using Spectre.Console.Cli;

// Logs and pipes get full lines instead of Spectre's 80-column wrap.
if (Console.IsOutputRedirected)
{
    AnsiConsole.Profile.Width = 240;
}

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("cnn");
    config.AddBranch("train", train =>
    {
        train.SetDescription("Train a model into a run folder (weights, config.json, metrics.csv, summary.json).");
        train.AddCommand<TrainLeNetCommand>("lenet")
            .WithDescription("LeNet-5 on MNIST-format digits (digits-5k by default, mnist, fashion-mnist).")
            .WithExample("train", "lenet")
            .WithExample("train", "lenet", "--dataset", "fashion-mnist", "--epochs", "15");
        train.AddCommand<TrainCifarCommand>("cifar")
            .WithDescription("The 4-conv BatchNorm CNN on CIFAR-100's 20 coarse labels (or --labels fine).")
            .WithExample("train", "cifar", "--data", "data/cifar-100-binary", "--device", "cuda");
    });
    config.AddCommand<SweepCommand>("sweep")
        .WithDescription("Train every combination of learning rate, width and seed; write sweep.csv and sweep.md. Resumable.")
        .WithExample("sweep", "lenet", "--lr", "1e-3,3e-3", "--width", "0.5,1,2");
    config.AddCommand<ReportCommand>("report")
        .WithDescription("One Markdown page with a run's metrics, curves, confusion matrix, mistakes, architecture and feature maps.")
        .WithExample("report", "runs/lenet5-digits", "--image", "my-seven.png");
    config.AddCommand<ExportCommand>("export")
        .WithDescription("Write a run's model as ONNX: FILE.onnx (logits, probabilities) and FILE.features.onnx (+ every conv and pool output).")
        .WithExample("export", "runs/lenet5-digits-20261127-101500");
    config.AddCommand<VerifyCommand>("verify")
        .WithDescription("Check an exported ONNX file against TorchSharp on test images and random inputs; exit 1 above tolerance.")
        .WithExample("verify", "runs/x/model.onnx", "--run", "runs/x");
    config.AddCommand<PredictCommand>("predict")
        .WithDescription("Label and top classes of images (photos or drawings of digits are preprocessed like MNIST).")
        .WithExample("predict", "models/lenet5-digits.onnx", "my-seven.jpg", "--sheet", "sheet.png");
    config.AddCommand<FeatureMapsCommand>("featuremaps")
        .WithDescription("Feature-map grids (PNG) and values (.npy) of one image, per conv and pool layer.")
        .WithExample("featuremaps", "models/lenet5-digits.onnx", "my-seven.jpg", "--layers", "conv1,pool1,conv2");
    config.SetExceptionHandler((exception, _) => ErrorReport.Print(AnsiConsole.Console, exception));
});
return await app.RunAsync(args);
