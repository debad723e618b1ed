// Reads a handwritten digit with a model exported by `cnn export` and prints what each layer responded to most.
using Cnn.Inference;

if (args.Length != 2)
{
    Console.Error.WriteLine("usage: DigitReader MODEL.onnx IMAGE");
    return 2;
}

try
{
    using var model = CnnModel.Load(args[0]);
    var input = model.Images.Prepare(args[1]);
    var maps = model.GetFeatureMaps(input.Pixels);
    var prediction = maps.Prediction;
    Console.WriteLine($"{Path.GetFileName(args[1])}: {prediction.Label} ({prediction.Probability:P1}); {model.Card.ModelName} on {model.Card.Dataset}, {model.Device}");
    foreach (var (name, map) in maps.Maps)
    {
        int strongest = Enumerable.Range(0, map.Channels).MaxBy(c => map.Channel(c).ToArray().Sum());
        Console.WriteLine($"  {name}: {map.Channels} maps of {map.Height}×{map.Width}, strongest is #{strongest}");
    }

    return 0;
}
catch (Exception e) when (e is InferenceException or IOException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
