using System.Text.Json;
using Cnn.Contracts;
using Cnn.Tests;

namespace Cnn.Inference.Tests;

public sealed class CnnModelTests : IDisposable
{
    private readonly CnnModel _model = CnnModel.Load(Repository.ModelPath, new InferenceOptions { IntraOpThreads = 1 });
    private readonly string _temp = Directory.CreateTempSubdirectory("cnn-inference-").FullName;

    public void Dispose()
    {
        _model.Dispose();
        Directory.Delete(_temp, recursive: true);
    }

    [Fact]
    public void Metadata_gives_labels_shape_and_feature_names()
    {
        Assert.Equal(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"], _model.Labels);
        Assert.Equal(new TensorShape(1, 28, 28), _model.Card.Input.Shape);
        Assert.Equal("lenet5", _model.Card.ModelName);
        Assert.Equal("mnist", _model.Card.Dataset);
        Assert.Equal(PreprocessingKind.Digit, _model.Card.Preprocessing);
        Assert.Equal(["conv1", "pool1", "conv2", "pool2"], _model.FeatureNames);
        Assert.Equal(Cnn.Contracts.ExecutionDevice.Cpu, _model.Device);
    }

    /// <summary>The embedded test digits (1,000 of MNIST's test set) as the model trained on it: deskewed by the same MomentDeskew when its card says so.</summary>
    private static float[] TestSetFor(CnnModel model)
    {
        var pixels = Digits.Floats(0, Digits.Count);
        var straight = new float[784];
        for (int i = 0; model.Card.Deskew && i < Digits.Count; i++)
        {
            var image = pixels.AsSpan(i * 784, 784);
            MomentDeskew.Apply(image, straight, 28, 28);
            straight.CopyTo(image);
        }

        return pixels;
    }

    /// <summary>
    /// The embedded test digits are 1,000 of the 10,000 the card's test accuracy was measured on, so the model cannot
    /// miss more of them than the card says it missed of all 10,000: a broken export (wrong normalisation, layout or
    /// weights) misses hundreds.
    /// </summary>
    private static void ReadsTheTestDigitsAsItsCardSays(CnnModel model)
    {
        var predictions = model.PredictBatch(TestSetFor(model), Digits.Count);
        int missed = predictions.Where((p, i) => p.Index != Digits.Label(i)).Count();
        int missedOfAll = (int)Math.Round((1 - model.Card.TestAccuracy!.Value) * 10_000);
        Assert.True(missed <= missedOfAll, $"{model.Source}: {missed} of the 1,000 embedded test digits wrong; its card says {missedOfAll} of MNIST's 10,000");
    }

    [Fact]
    public void Digits_test_set_accuracy_agrees_with_what_training_reported()
    {
        var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(Repository.Root, "models", "lenet5-mnist.summary.json")));
        Assert.Equal(summary.RootElement.GetProperty("test_accuracy").GetDouble(), _model.Card.TestAccuracy);
        ReadsTheTestDigitsAsItsCardSays(_model);
    }

    [Fact]
    public void The_shipped_ensemble_reads_the_test_set_as_its_card_says_and_shows_its_first_nets_maps()
    {
        using var ensemble = CnnModel.Load(Repository.EnsemblePath);
        Assert.True(ensemble.Card.Members.Count >= 2, $"{ensemble.Card.Members.Count} members");
        ReadsTheTestDigitsAsItsCardSays(ensemble);
        Assert.Equal(["conv1", "pool1", "conv2", "pool2"], ensemble.FeatureNames);
    }

    [Fact]
    public void The_shipped_distilled_net_reads_the_test_set_as_its_card_says_and_names_the_committed_teacher()
    {
        using var distilled = CnnModel.Load(Repository.DistilledPath);
        ReadsTheTestDigitsAsItsCardSays(distilled);
        var distill = distilled.Card.TrainingConfig!.Value.GetProperty("distill");
        Assert.Equal("models/lenet5-mnist-ensemble.onnx", distill.GetProperty("teacher").GetString());
        using var sha = System.Security.Cryptography.SHA256.Create();
        Assert.Equal(Convert.ToHexStringLower(sha.ComputeHash(File.ReadAllBytes(Repository.EnsemblePath))), distill.GetProperty("teacher_sha256").GetString());
    }

    [Fact]
    public void Batch_equals_one_by_one_and_top_is_sorted()
    {
        var batch = _model.PredictBatch(Digits.Floats(0, 7), 7);
        for (int i = 0; i < 7; i++)
        {
            var single = _model.Predict(Digits.Floats(i, 1));
            Assert.Equal(single.Index, batch[i].Index);
            Assert.Equal(single.Probabilities, batch[i].Probabilities);
        }

        var top = batch[0].Top(3);
        Assert.Equal(3, top.Count);
        Assert.True(top[0].Probability >= top[1].Probability && top[1].Probability >= top[2].Probability);
        Assert.Equal(batch[0].Label, top[0].Label);
        Assert.Equal(1.0, batch[0].Probabilities.Sum(), 4);
    }

    [Fact]
    public void Parallel_predictions_equal_serial_ones()
    {
        var serial = Enumerable.Range(0, 200).Select(i => _model.Predict(Digits.Floats(i, 1))).ToArray();
        var parallel = new Prediction[200];
        Parallel.For(0, 200, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => parallel[i] = _model.Predict(Digits.Floats(i, 1)));
        for (int i = 0; i < 200; i++)
        {
            Assert.Equal(serial[i].Probabilities, parallel[i].Probabilities);
        }
    }

    [Fact]
    public void Feature_maps_come_by_name_with_their_shapes()
    {
        var set = _model.GetFeatureMaps(Digits.Floats(0, 1));
        Assert.Equal(["conv1", "pool1", "conv2", "pool2"], set.Maps.Keys);
        Assert.Equal((6, 28, 28), (set.Maps["conv1"].Channels, set.Maps["conv1"].Height, set.Maps["conv1"].Width));
        Assert.Equal((16, 5, 5), (set.Maps["pool2"].Channels, set.Maps["pool2"].Height, set.Maps["pool2"].Width));
        Assert.Equal(16 * 25, set.Maps["pool2"].Values.Length);
        Assert.All(set.Maps["conv1"].Values, v => Assert.True(v >= 0)); // after ReLU
        Assert.Equal(_model.Predict(Digits.Floats(0, 1)).Index, set.Prediction.Index);

        // pool1 is the 2×2 average of conv1.
        var conv1 = set.Maps["conv1"].Channel(2);
        var pool1 = set.Maps["pool1"].Channel(2);
        float expected = (conv1[(4 * 28) + 6] + conv1[(4 * 28) + 7] + conv1[(5 * 28) + 6] + conv1[(5 * 28) + 7]) / 4;
        Assert.Equal(expected, pool1[(2 * 14) + 3], 5);

        var some = _model.GetFeatureMaps(Digits.Floats(0, 1), ["pool2"]);
        Assert.Equal(["pool2"], some.Maps.Keys);
        Assert.Equal(set.Maps["pool2"].Values, some.Maps["pool2"].Values);
    }

    [Fact]
    public void A_feature_map_buffer_is_refilled_in_place_with_each_image()
    {
        using var buffer = _model.CreateFeatureMapBuffer();
        Assert.Equal(["conv1", "pool1", "conv2", "pool2"], buffer.Names);
        var conv1Values = buffer.Maps["conv1"].Values;
        for (int image = 0; image < 3; image++)
        {
            var prediction = _model.FillFeatureMaps(Digits.Floats(image, 1), buffer);
            var fresh = _model.GetFeatureMaps(Digits.Floats(image, 1));
            Assert.Equal(fresh.Prediction.Probabilities, prediction.Probabilities);
            foreach (var name in buffer.Names)
            {
                Assert.Equal(fresh.Maps[name].Values, buffer.Maps[name].Values);
                Assert.Equal((fresh.Maps[name].Channels, fresh.Maps[name].Height, fresh.Maps[name].Width), (buffer.Maps[name].Channels, buffer.Maps[name].Height, buffer.Maps[name].Width));
            }
        }

        Assert.Same(conv1Values, buffer.Maps["conv1"].Values);

        using var some = _model.CreateFeatureMapBuffer(["pool2", "conv1"]);
        Assert.Equal(["pool2", "conv1"], some.Names);
        _model.FillFeatureMaps(Digits.Floats(2, 1), some);
        Assert.Equal(buffer.Maps["pool2"].Values, some.Maps["pool2"].Values);
    }

    [Fact]
    public void Threads_with_their_own_buffers_get_the_serial_feature_maps()
    {
        var serial = Enumerable.Range(0, 40).Select(i => _model.GetFeatureMaps(Digits.Floats(i, 1), ["conv2"]).Maps["conv2"].Values).ToArray();
        var parallel = new float[40][];
        Parallel.For(
            0,
            4,
            new ParallelOptions { MaxDegreeOfParallelism = 4 },
            part =>
            {
                using var buffer = _model.CreateFeatureMapBuffer(["conv2"]);
                for (int i = part; i < 40; i += 4)
                {
                    _model.FillFeatureMaps(Digits.Floats(i, 1), buffer);
                    parallel[i] = buffer.Maps["conv2"].Values.ToArray();
                }
            });
        for (int i = 0; i < 40; i++)
        {
            Assert.Equal(serial[i], parallel[i]);
        }
    }

    [Fact]
    public void Feature_map_buffers_refuse_misuse_with_a_reason()
    {
        var unknown = Assert.Throws<UnknownOutputException>(() => _model.CreateFeatureMapBuffer(["conv1", "fc9"]));
        Assert.Equal($"{Repository.ModelPath}: no feature map named 'fc9'; available: conv1, pool1, conv2, pool2", unknown.Message);

        using var other = CnnModel.Load(Repository.FeaturesPath);
        using (var foreign = other.CreateFeatureMapBuffer())
        {
            var e = Assert.Throws<ArgumentException>(() => _model.FillFeatureMaps(Digits.Floats(0, 1), foreign));
            Assert.Equal("buffer", e.ParamName);
            Assert.StartsWith($"this FeatureMapBuffer was made by the model loaded from {Repository.FeaturesPath}, not by this one ({Repository.ModelPath})", e.Message);
        }

        using var buffer = _model.CreateFeatureMapBuffer();
        var shape = Assert.Throws<InputShapeException>(() => _model.FillFeatureMaps(new float[10], buffer));
        Assert.StartsWith("10 floats for 1 image(s); expected 1 × 1×28×28 = 784", shape.Message);
        using (buffer.Acquire())
        {
            // As if another thread were inside FillFeatureMaps with this buffer.
            var busy = Assert.Throws<InvalidOperationException>(() => _model.FillFeatureMaps(Digits.Floats(0, 1), buffer));
            Assert.Equal("this FeatureMapBuffer is already being filled by another call; use one buffer per thread", busy.Message);
        }

        _model.FillFeatureMaps(Digits.Floats(0, 1), buffer);
        buffer.Dispose();
        Assert.Throws<ObjectDisposedException>(() => _model.FillFeatureMaps(Digits.Floats(0, 1), buffer));
    }

    [Fact]
    public void A_disposed_model_refuses_calls_instead_of_reaching_a_freed_session()
    {
        var model = CnnModel.Load(Repository.ModelPath);
        using var buffer = model.CreateFeatureMapBuffer();
        model.Dispose();
        model.Dispose();
        Assert.Throws<ObjectDisposedException>(() => model.Predict(Digits.Floats(0, 1)));
        Assert.Throws<ObjectDisposedException>(() => model.PredictBatch(Digits.Floats(0, 2), 2));
        Assert.Throws<ObjectDisposedException>(() => model.GetFeatureMaps(Digits.Floats(0, 1)));
        Assert.Throws<ObjectDisposedException>(() => model.FillFeatureMaps(Digits.Floats(0, 1), buffer));
        Assert.Throws<ObjectDisposedException>(() => model.CreateFeatureMapBuffer());
    }

    [Fact]
    public void A_missing_output_is_named_with_what_exists()
    {
        var e = Assert.Throws<UnknownOutputException>(() => _model.GetFeatureMaps(Digits.Floats(0, 1), ["conv9"]));
        Assert.Equal($"{Repository.ModelPath}: no feature map named 'conv9'; available: conv1, pool1, conv2, pool2", e.Message);

        string lone = Path.Combine(_temp, "lone.onnx");
        File.Copy(Repository.ModelPath, lone);
        using var model = CnnModel.Load(lone);
        Assert.Empty(model.FeatureNames);
        var none = Assert.Throws<UnknownOutputException>(() => model.GetFeatureMaps(Digits.Floats(0, 1)));
        Assert.Contains("has no feature-map outputs and no lone.features.onnx beside it", none.Message);
    }

    [Fact]
    public void A_wrong_input_length_names_actual_and_expected()
    {
        var e = Assert.Throws<InputShapeException>(() => _model.Predict(new float[100]));
        Assert.Equal($"100 floats for 1 image(s); expected 1 × 1×28×28 = 784 ([N, C, H, W] of {Repository.ModelPath})", e.Message);
        var b = Assert.Throws<InputShapeException>(() => _model.PredictBatch(new float[784 * 3], 2));
        Assert.StartsWith("2,352 floats for 2 image(s); expected 2 × 1×28×28 = 1,568", b.Message);

        // 268,435,457 × 784 overflows int: the count must still be checked in full.
        var huge = Assert.Throws<InputShapeException>(() => _model.PredictBatch(new float[784], 268_435_457));
        Assert.StartsWith("784 floats for 268,435,457 image(s); expected 268,435,457 × 1×28×28 = 210,453,398,288", huge.Message);
    }

    [Fact]
    public void Loads_from_a_stream_and_the_features_file_directly()
    {
        using (var stream = File.OpenRead(Repository.FeaturesPath))
        using (var model = CnnModel.Load(stream, "features-stream", new InferenceOptions()))
        {
            Assert.Equal(["conv1", "pool1", "conv2", "pool2"], model.FeatureNames);
            Assert.Equal(_model.Predict(Digits.Floats(3, 1)).Probabilities, model.Predict(Digits.Floats(3, 1)).Probabilities);
        }

        using var direct = CnnModel.Load(Repository.FeaturesPath);
        Assert.Equal(4, direct.GetFeatureMaps(Digits.Floats(0, 1)).Maps.Count);
    }

    [Fact]
    public void Cuda_on_a_cpu_build_falls_back_with_one_warning()
    {
        var warnings = new List<string>();
        using var model = CnnModel.Load(Repository.ModelPath, new InferenceOptions { Device = ExecutionDevice.Cuda, Warning = warnings.Add });
        Assert.Equal(Cnn.Contracts.ExecutionDevice.Cpu, model.Device);
        var warning = Assert.Single(warnings);
        Assert.StartsWith("CUDA execution provider unavailable", warning);
        Assert.EndsWith("running on CPU", warning);
        Assert.Equal(_model.Predict(Digits.Floats(0, 1)).Index, model.Predict(Digits.Floats(0, 1)).Index);
    }

    [Fact]
    public void Bad_model_files_are_named()
    {
        string junk = Path.Combine(_temp, "junk.onnx");
        File.WriteAllBytes(junk, [1, 2, 3]);
        var e = Assert.Throws<InvalidModelException>(() => CnnModel.Load(junk));
        Assert.Equal($"{junk}: not a valid ONNX file (truncated)", e.Message);
        var missing = Assert.Throws<FileNotFoundException>(() => CnnModel.Load(Path.Combine(_temp, "none.onnx")));
        Assert.Equal($"model file not found: {Path.Combine(_temp, "none.onnx")}", missing.Message);
        var folder = Assert.Throws<InvalidModelException>(() => CnnModel.Load(_temp));
        Assert.Equal($"{_temp}: is a folder; expected an .onnx file", folder.Message);
    }

    [Fact]
    public void A_consumer_of_cnn_inference_gets_no_libtorch()
    {
        var natives = Directory.EnumerateFiles(AppContext.BaseDirectory, "*", SearchOption.AllDirectories).Select(Path.GetFileName).ToList();
        Assert.Contains("libonnxruntime.so", natives);
        Assert.DoesNotContain(natives, n => n!.Contains("torch", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(AppDomain.CurrentDomain.GetAssemblies(), a => a.GetName().Name!.StartsWith("TorchSharp", StringComparison.Ordinal));
    }

    [Fact]
    public void A_file_without_a_model_card_is_refused_with_what_to_do()
    {
        string old = Path.Combine(_temp, "old.onnx");
        File.WriteAllBytes(old, OnnxMetadata.Replace(File.ReadAllBytes(Repository.ModelPath), new Dictionary<string, string> { ["class_labels"] = "[\"0\"]" }));
        var e = Assert.Throws<InvalidModelException>(() => CnnModel.Load(old));
        Assert.Equal($"{old}: has no model card (metadata 'cnn.model_card', or old.card.json beside the file); a model of another producer is described once with `cnn describe {old} --labels …`, a model of `cnn export` before 0.2 is exported again", e.Message);
    }

    [Fact]
    public void A_card_of_a_newer_major_version_is_refused()
    {
        string future = WithCard("future.onnx", card => Version(card, "\"format_version\":\"2.0\""));
        var e = Assert.Throws<InvalidModelException>(() => CnnModel.Load(future));
        Assert.Equal($"{future}: model card format 2.0 is not readable by this version of Cnn.Contracts, which reads 1.x; update Cnn.Inference", e.Message);

        // A newer minor version only adds optional fields: it loads.
        string minor = WithCard("minor.onnx", card => Version(card, "\"format_version\":\"1.7\",\"something_new\":[1,2]"));
        using var model = CnnModel.Load(minor);
        Assert.Equal("1.7", model.Card.FormatVersion);
    }

    [Fact]
    public void A_1_0_card_reads_as_no_deskew_and_temperature_1()
    {
        string old = WithCard("v10.onnx", card =>
        {
            var json = System.Text.Json.Nodes.JsonNode.Parse(card)!.AsObject();
            json.Remove("deskew");
            json.Remove("temperature");
            json["format_version"] = "1.0";
            return json.ToJsonString();
        });
        using var model = CnnModel.Load(old);
        Assert.Equal(("1.0", false, 1.0, 0), (model.Card.FormatVersion, model.Card.Deskew, model.Card.Temperature, model.Card.Members.Count));
        var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(Repository.Root, "models", "lenet5-mnist.summary.json")));
        Assert.Equal(summary.RootElement.GetProperty("temperature").GetDouble(), _model.Card.Temperature);
    }

    [Fact]
    public void A_card_with_deskew_for_gray_images_or_a_bad_temperature_is_refused()
    {
        string gray = WithCard("gray.onnx", card => card.Replace("\"preprocessing\":\"digit\"", "\"preprocessing\":\"gray\"").Replace("\"deskew\":false", "\"deskew\":true"));
        var e = Assert.Throws<InvalidModelException>(() => CnnModel.Load(gray));
        Assert.Equal($"{gray}: the model card is inconsistent: deskew is set with preprocessing 'Gray'; deskewing applies to digit preprocessing only", e.Message);

        string cold = WithCard("cold.onnx", card => System.Text.RegularExpressions.Regex.Replace(card, "\"temperature\":[0-9.]+", "\"temperature\":0"));
        var t = Assert.Throws<InvalidModelException>(() => CnnModel.Load(cold));
        Assert.Equal($"{cold}: the model card is inconsistent: temperature is 0; expected a finite number > 0", t.Message);
    }

    [Fact]
    public void Predictions_below_the_minimum_probability_are_unsure()
    {
        var half = Digits.Floats(3, 1);
        Array.Clear(half, 0, 392);
        float p = _model.Predict(half).Probability;
        Assert.Equal(p < InferenceOptions.DefaultMinProbability, _model.Predict(half).IsUnsure);

        // Just above the answer's probability it is unsure, just below it is not; batches and feature maps say the same.
        using (var above = CnnModel.Load(Repository.ModelPath, new InferenceOptions { MinProbability = Math.Min(1, p + 0.001) }))
        {
            Assert.True(above.Predict(half).IsUnsure);
            Assert.True(above.PredictBatch(half, 1)[0].IsUnsure);
            Assert.True(above.GetFeatureMaps(half, ["conv1"]).Prediction.IsUnsure);
        }

        using (var below = CnnModel.Load(Repository.ModelPath, new InferenceOptions { MinProbability = p - 0.001 }))
        {
            Assert.False(below.Predict(half).IsUnsure);
        }

        using var never = CnnModel.Load(Repository.ModelPath, new InferenceOptions { MinProbability = 0 });
        Assert.False(never.Predict(new float[784]).IsUnsure);
        Assert.True(p < 1, "half a digit should leave some doubt");
    }

    [Fact]
    public void The_cards_unsure_threshold_applies_unless_the_app_gives_its_own()
    {
        var half = Digits.Floats(3, 1);
        Array.Clear(half, 0, 392);
        float p = _model.Predict(half).Probability;
        Assert.Equal(InferenceOptions.DefaultMinProbability, _model.MinProbability);
        string strict = WithCard("strict.onnx", card => card.Replace("\"test_accuracy\":", FormattableString.Invariant($"\"unsure_below\":{Math.Min(1, p + 0.001)},\"test_accuracy\":")));

        using (var model = CnnModel.Load(strict))
        {
            Assert.Equal(Math.Min(1, p + 0.001), model.Card.UnsureBelow!.Value, 6);
            Assert.Equal(model.Card.UnsureBelow!.Value, model.MinProbability);
            Assert.True(model.Predict(half).IsUnsure);
            Assert.True(model.PredictBatch(half, 1)[0].IsUnsure);
        }

        using var overridden = CnnModel.Load(strict, new InferenceOptions { MinProbability = 0 });
        Assert.Equal(0, overridden.MinProbability);
        Assert.False(overridden.Predict(half).IsUnsure);

        string bad = WithCard("bad-threshold.onnx", card => card.Replace("\"test_accuracy\":", "\"unsure_below\":1.5,\"test_accuracy\":"));
        var e = Assert.Throws<InvalidModelException>(() => CnnModel.Load(bad));
        Assert.Contains("unsure_below is 1.5; expected a probability in (0, 1]", e.Message);
    }

    [Fact]
    public void A_card_whose_label_count_differs_from_the_graph_is_refused()
    {
        string three = WithCard("three.onnx", card => card.Replace("\"labels\":[\"0\",\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\"]", "\"labels\":[\"a\",\"b\",\"c\"]"));
        var e = Assert.Throws<InvalidModelException>(() => CnnModel.Load(three));
        Assert.StartsWith($"{three}: the model card has 3 class labels; expected an output 'probabilities' of [N, 3], found logits [-1, 10], probabilities [-1, 10]", e.Message);
    }

    [Fact]
    public void A_card_that_contradicts_itself_or_is_not_json_is_named()
    {
        string bad = WithCard("bad.onnx", card => card.Replace("\"mean\":[", "\"mean\":[0.5,"));
        var e = Assert.Throws<InvalidModelException>(() => CnnModel.Load(bad));
        Assert.Equal($"{bad}: the model card is inconsistent: normalization has 2 means and 1 stds; expected 1 finite means and positive stds", e.Message);

        string broken = WithCard("broken.onnx", card => card[..^5]);
        var json = Assert.Throws<InvalidModelException>(() => CnnModel.Load(broken));
        Assert.StartsWith($"{broken}: the model card is not valid JSON (", json.Message);
    }

    [Fact]
    public void A_features_file_from_other_weights_is_refused_naming_both_files()
    {
        var (model, sibling) = WithFeaturesCard("m", card =>
            System.Text.RegularExpressions.Regex.Replace(card, "\"weights_sha256\":\"[0-9a-f]{64}\"", $"\"weights_sha256\":\"{new string('a', 64)}\""));

        var e = Assert.Throws<InvalidModelException>(() => CnnModel.Load(model));
        Assert.StartsWith($"{sibling} does not belong to {model}: its weights (sha256 aaaaaaaaaaaa…) are not the model's (", e.Message);
    }

    [Fact]
    public void A_features_file_whose_labels_differ_is_refused_naming_the_labels_not_the_weights()
    {
        var (model, sibling) = WithFeaturesCard("l", card =>
        {
            Assert.Contains("\"labels\":[\"0\",", card);
            return card.Replace("\"labels\":[\"0\",", "\"labels\":[\"zero\",");
        });

        var e = Assert.Throws<InvalidModelException>(() => CnnModel.Load(model));
        Assert.StartsWith($"{sibling} does not belong to {model}: its labels (zero, 1, 2, 3, 4, 5, 6, 7, 8, 9) are not the model's (0, 1, 2, 3, 4, 5, 6, 7, 8, 9);", e.Message);
    }

    /// <summary>The shipped model copied as NAME.onnx beside its features file with the card <paramref name="edit"/> makes of it.</summary>
    private (string Model, string Sibling) WithFeaturesCard(string name, Func<string, string> edit)
    {
        string model = Path.Combine(_temp, $"{name}.onnx");
        string sibling = Path.Combine(_temp, $"{name}.features.onnx");
        File.Copy(Repository.ModelPath, model);
        var features = File.ReadAllBytes(Repository.FeaturesPath);
        File.WriteAllBytes(sibling, OnnxMetadata.Replace(features, new Dictionary<string, string>
        {
            [OnnxMetadata.CardKey] = edit(OnnxMetadata.Card(features)),
        }));
        return (model, sibling);
    }

    [Fact]
    public void Invalid_options_are_named()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => CnnModel.Load(Repository.ModelPath, new InferenceOptions { MaxImagePixels = 0 }));
        Assert.StartsWith("MaxImagePixels is 0; expected ≥ 1", e.Message);
        var threads = Assert.Throws<ArgumentOutOfRangeException>(() => CnnModel.Load(Repository.ModelPath, new InferenceOptions { IntraOpThreads = -1 }));
        Assert.StartsWith("IntraOpThreads is -1; expected ≥ 0", threads.Message);
        var unsure = Assert.Throws<ArgumentOutOfRangeException>(() => CnnModel.Load(Repository.ModelPath, new InferenceOptions { MinProbability = 1.5 }));
        Assert.StartsWith("MinProbability is 1.5; expected 0..1 (0 = never unsure)", unsure.Message);
    }

    [Fact]
    public void A_feature_map_asked_for_twice_is_named()
    {
        var e = Assert.Throws<UnknownOutputException>(() => _model.GetFeatureMaps(Digits.Floats(0, 1), ["conv1", "pool1", "conv1"]));
        Assert.Equal($"{Repository.ModelPath}: feature map 'conv1' is asked for twice; name each once (available: conv1, pool1, conv2, pool2)", e.Message);
    }

    [Fact]
    public void Disposing_while_other_threads_call_lets_them_finish_and_refuses_later_calls()
    {
        // Every call type, from four threads, while the model is disposed under them: no crash, and each call either
        // completes with the right answer or throws ObjectDisposedException.
        var expected = _model.Predict(Digits.Floats(0, 1)).Index;
        for (int round = 0; round < 20; round++)
        {
            var model = CnnModel.Load(Repository.ModelPath, new InferenceOptions { IntraOpThreads = 1 });
            using var start = new Barrier(5);
            var errors = new System.Collections.Concurrent.ConcurrentBag<Exception>();
            var threads = Enumerable.Range(0, 4).Select(t => new Thread(() =>
            {
                start.SignalAndWait();
                for (int i = 0; i < 200; i++)
                {
                    try
                    {
                        int index = (t % 4) switch
                        {
                            0 => model.Predict(Digits.Floats(0, 1)).Index,
                            1 => model.PredictBatch(Digits.Floats(0, 2), 2)[0].Index,
                            2 => model.GetFeatureMaps(Digits.Floats(0, 1), ["conv2"]).Prediction.Index,
                            _ => FillOnce(model),
                        };
                        Assert.Equal(expected, index);
                    }
                    catch (ObjectDisposedException)
                    {
                        return;
                    }
                    catch (Exception e)
                    {
                        errors.Add(e);
                        return;
                    }
                }
            })).ToList();
            threads.ForEach(t => t.Start());
            start.SignalAndWait();
            Thread.Sleep(round % 5);
            model.Dispose();
            threads.ForEach(t => t.Join());
            Assert.Empty(errors);
            Assert.Throws<ObjectDisposedException>(() => model.Predict(Digits.Floats(0, 1)));
        }

        int FillOnce(CnnModel model)
        {
            using var buffer = model.CreateFeatureMapBuffer(["pool2"]);
            return model.FillFeatureMaps(Digits.Floats(0, 1), buffer).Index;
        }
    }

    [Fact]
    public void Short_lived_threads_leave_at_most_the_pools_capacity_of_buffers_behind()
    {
        using var model = CnnModel.Load(Repository.ModelPath, new InferenceOptions { IntraOpThreads = 1 });
        for (int batch = 0; batch < 10; batch++)
        {
            var threads = Enumerable.Range(0, 40).Select(_ => new Thread(() => model.Predict(Digits.Floats(1, 1)))).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());
        }

        // 400 threads each made one prediction; the model keeps no buffer per thread, only a bounded pool.
        Assert.InRange(model.IdleBuffers, 1, 2 * Environment.ProcessorCount);
    }

    [Fact]
    public void Conv_kernels_are_the_weights_the_graph_applies()
    {
        var kernels = _model.GetKernels("conv1");
        Assert.Equal(("conv1", 6, 1, 5, 5), (kernels.Layer, kernels.OutChannels, kernels.InChannels, kernels.Height, kernels.Width));
        Assert.Equal((16, 6), (_model.GetKernels("conv2").OutChannels, _model.GetKernels("conv2").InChannels));

        // On a flat image one brighter pixel adds to conv1 (5×5, pad 2) the kernel, flipped around that pixel, times
        // the pixel's step after normalisation. Two brightnesses of the dot whose outputs both pass ReLU differ by
        // exactly the kernel times the difference of their steps, whatever the biases: a net whose flat responses are
        // all cut off by ReLU is still measured.
        double std = _model.Card.Normalization.Std[0];
        const float low = 0.4f, high = 0.8f;
        int compared = 0;
        foreach (float level in new[] { 0f, (float)_model.Card.Normalization.Mean[0] })
        {
            var dim = Enumerable.Repeat(level, 784).ToArray();
            var bright = dim.ToArray();
            dim[(14 * 28) + 14] = level + low;
            bright[(14 * 28) + 14] = level + high;
            var a = _model.GetFeatureMaps(dim, ["conv1"]).Maps["conv1"];
            var b = _model.GetFeatureMaps(bright, ["conv1"]).Maps["conv1"];
            for (int c = 0; c < 6; c++)
            {
                for (int i = 0; i < 5; i++)
                {
                    for (int j = 0; j < 5; j++)
                    {
                        int y = 14 - i + 2, x = 14 - j + 2;
                        float before = a.Channel(c)[(y * 28) + x], after = b.Channel(c)[(y * 28) + x];
                        if (before > 0 && after > 0)
                        {
                            Assert.Equal(kernels.Kernel(c, 0)[(i * 5) + j], (after - before) * std / (high - low), 4);
                            compared++;
                        }
                    }
                }
            }
        }

        Assert.True(compared > 20, $"only {compared} weights could be compared");
        var e = Assert.Throws<UnknownOutputException>(() => _model.GetKernels("pool1"));
        Assert.Equal($"{Repository.ModelPath}: no conv layer named 'pool1' has kernels; layers with kernels: conv1, conv2", e.Message);
    }

    private static string Version(string card, string replacement) =>
        System.Text.RegularExpressions.Regex.Replace(card, "\"format_version\":\"[0-9]+\\.[0-9]+\"", replacement);

    private string WithCard(string name, Func<string, string> edit)
    {
        var bytes = File.ReadAllBytes(Repository.ModelPath);
        string path = Path.Combine(_temp, name);
        File.WriteAllBytes(path, OnnxMetadata.Replace(bytes, new Dictionary<string, string> { [OnnxMetadata.CardKey] = edit(OnnxMetadata.Card(bytes)) }));
        return path;
    }
}
