using Cnn.Tests;
using Cnn.Train.Training;

namespace Cnn.Cli.Tests;

/// <summary>`cnn train --teacher`: a run learns an exported model's probabilities as well as the labels.</summary>
public sealed class DistillationTests(OneEpochRun trained) : IClassFixture<OneEpochRun>, IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    private string[] Train(string outDir, params string[] extra) =>
        ["train", "lenet", "--data", trained.Data, "--epochs", "1", "--threads", "1", "--seed", "4", "--out", _dir.Combine(outDir), .. extra];

    private string Teacher()
    {
        string file = _dir.Combine("teacher.onnx");
        var (code, output) = Cli.Run("export", trained.Path, "--out", file);
        Assert.True(code == 0, output);
        return file;
    }

    [Fact]
    public void A_student_repeats_bit_for_bit_differs_from_labels_alone_and_records_its_teacher()
    {
        string teacher = Teacher();
        foreach (var name in new[] { "a", "b" })
        {
            var (code, output) = Cli.Run(Train(name, "--teacher", teacher, "--distill-temperature", "3", "--distill-weight", "0.6"));
            Assert.True(code == 0, output);
        }

        var (plainCode, plainOutput) = Cli.Run(Train("plain"));
        Assert.True(plainCode == 0, plainOutput);
        byte[] Weights(string name) => File.ReadAllBytes(Path.Combine(_dir.Combine(name), RunFolder.WeightsFile));
        Assert.Equal(Weights("a"), Weights("b"));
        Assert.NotEqual(Weights("a"), Weights("plain"));
        Assert.Equal(new Distillation(teacher, 3, 0.6) { TeacherSha256 = Distillation.Sha256Of(teacher) }, new RunFolder(_dir.Combine("a")).ReadConfig().Training.Distill);
        Assert.Null(new RunFolder(_dir.Combine("plain")).ReadConfig().Training.Distill);
        Assert.DoesNotContain("distill", File.ReadAllText(Path.Combine(_dir.Combine("plain"), "config.json")));
    }

    [Fact]
    public void A_teacher_that_is_missing_or_not_a_model_is_named()
    {
        string missing = _dir.Combine("nowhere.onnx");
        var (code, output) = Cli.Run(Train("missing", "--teacher", missing));
        Assert.Equal(1, code);
        Assert.Contains($"teacher {missing}: no such file; expected an ONNX model exported by cnn export", output);

        string junk = _dir.Combine("junk.onnx");
        File.WriteAllText(junk, "not a model");
        (code, output) = Cli.Run(Train("junk", "--teacher", junk));
        Assert.Equal(1, code);
        Assert.Contains($"teacher {junk}", output);
        Assert.DoesNotContain("   at ", output);
    }
}
