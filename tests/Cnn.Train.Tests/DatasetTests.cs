using Cnn.Contracts;
using Cnn.Tests;
using Cnn.Train.Data;
using Cnn.Train.Models;
using Cnn.Train.Recipes;
using Cnn.Train.Training;

namespace Cnn.Train.Tests;

/// <summary>Data sets are their own types: any recipe takes any of them, and a run's config carries what training needs of one.</summary>
public sealed class DatasetTests : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Every_recipe_takes_every_data_set_with_the_data_sets_options_and_the_nets_own()
    {
        foreach (var recipe in Recipes.Recipes.All)
        {
            Assert.Equal(Datasets.All.Count, recipe.Datasets.Count);
            Assert.Same(recipe.DefaultDataset, recipe.Datasets[0]);
            foreach (var dataset in Datasets.All)
            {
                dataset.Check(recipe.Defaults(dataset).Validated(), n => n);
            }
        }

        // The data set decides epochs and augmentation, the net its learning rate.
        var lenetOnPhotos = Recipes.Recipes.LeNet.Defaults(Datasets.Cifar100);
        var cifarOnPhotos = Recipes.Recipes.Cifar.Defaults(Datasets.Cifar100);
        Assert.Equal((30, 8, true, 0.1), (lenetOnPhotos.Epochs, lenetOnPhotos.Patience, lenetOnPhotos.Augment, lenetOnPhotos.ValidationFraction));
        Assert.Equal(lenetOnPhotos with { LearningRate = 5e-4, BatchSize = 128 }, cifarOnPhotos);
        Assert.Equal(LeNetRecipe.LearningRate, lenetOnPhotos.LearningRate);
        Assert.Equal(Recipes.Recipes.LeNet.Defaults(Datasets.Handwriting), Recipes.Recipes.Cifar.Defaults(Datasets.Handwriting));
    }

    [Fact]
    public async Task LeNet_trains_on_colour_photos_when_asked()
    {
        string data = SyntheticCifar.Write(_dir.Combine("data"), 60, 20);
        var recipe = Recipes.Recipes.LeNet;
        var options = recipe.Defaults(Datasets.Cifar100) with { Threads = 1 };

        using var prepared = await recipe.PrepareAsync(new RunRequest(Datasets.Cifar100, options, 0.5, new DataRequest(data)), downloader: null);

        var model = Assert.IsType<LeNet5Config>(prepared.Config.Model);
        Assert.Equal((3, 32, 20), (model.InChannels, model.ImageSize, model.NumClasses));
        Assert.Equal(PreprocessingKind.Color, prepared.Config.Data.Preprocessing);
    }

    [Fact]
    public void A_runs_config_carries_its_preprocessing_and_an_older_config_gets_its_data_sets()
    {
        var info = new DataInfo(Datasets.FashionMnist.Name, "generated", 10, 2, 2, 1, 28, 28, DatasetCatalog.FashionClasses) { Preprocessing = PreprocessingKind.Gray };
        var config = new RunConfig(new LeNet5Config { Width = 0.5 }, new TrainOptions(), info, new Normalization([0.3], [0.3]), VersionInfo.Current());
        var run = new RunFolder(_dir.Combine("run"));
        run.WriteConfig(config with { Data = info with { Preprocessing = PreprocessingKind.Digit } });
        string path = run.File(RunFolder.ConfigFile);
        Assert.Contains("\"preprocessing\": \"digit\"", File.ReadAllText(path));
        Assert.Equal(PreprocessingKind.Digit, run.ReadConfig().Data.Preprocessing);

        // A config.json written before the field existed: the data set's own kind, not a default.
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!;
        Assert.True(json["data"]!.AsObject().Remove("preprocessing"));
        File.WriteAllText(path, json.ToJsonString());
        Assert.Equal(PreprocessingKind.Gray, run.ReadConfig().Data.Preprocessing);
    }

    [Fact]
    public async Task A_saved_run_on_a_data_set_this_version_does_not_know_is_refused_by_name()
    {
        var info = new DataInfo("kuzushiji", "somewhere", 10, 2, 2, 1, 28, 28, DatasetCatalog.DigitClasses);
        var config = new RunConfig(new LeNet5Config(), new TrainOptions(), info, new Normalization([0.3], [0.3]), VersionInfo.Current());

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => Datasets.ReloadAsync(config));

        Assert.StartsWith("the run trained on data set 'kuzushiji', which this version of cnn does not know; expected digits, mnist", e.Message);
    }
}
