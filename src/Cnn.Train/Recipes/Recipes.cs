using System.Globalization;
using Cnn.Train.Data;
using Cnn.Train.Models;
using Cnn.Train.Training;

namespace Cnn.Train.Recipes;

/// <summary>The recipes <c>cnn</c> trains: <c>lenet</c> and <c>cifar</c>.</summary>
public static class Recipes
{
    /// <summary>LeNet-5.</summary>
    public static LeNetRecipe LeNet { get; } = new();

    /// <summary>The seed's 4-conv BatchNorm net.</summary>
    public static CifarRecipe Cifar { get; } = new();

    /// <summary>Every recipe, in the order help texts list them.</summary>
    public static IReadOnlyList<Recipe> All { get; } = [LeNet, Cifar];

    /// <summary>The recipe called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No recipe has that name.</exception>
    public static Recipe Get(string name) =>
        All.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"model is '{name}'; expected {Words.Or(All.Select(r => r.Name))}");

    /// <summary>The recipe that trained a saved run, from its architecture.</summary>
    public static Recipe For(RunConfig config) => config.Model switch
    {
        LeNet5Config => LeNet,
        CifarCoarseNetConfig => Cifar,
        _ => throw new NotSupportedException($"no recipe trains {config.Model.Name}"),
    };

    /// <summary>
    /// The default of one <see cref="TrainOptions"/> property across every recipe and data set, for help texts: the
    /// most common value first, then the data sets that differ, with the recipe where the recipes differ on one,
    /// e.g. <c>0.003 (cifar on cifar100: 0.0005)</c>.
    /// </summary>
    public static string DescribeDefault(Func<TrainOptions, object> option)
    {
        var values = (from r in All from d in Data.Datasets.All select (Recipe: r.Name, Dataset: d.Name, Value: Format(option(r.Defaults(d))))).ToList();
        string common = values.GroupBy(v => v.Value).OrderByDescending(g => g.Count()).First().Key;
        var exceptions = values.GroupBy(v => v.Dataset).SelectMany(g => g.Select(v => v.Value).Distinct().Count() == 1
                ? g.Take(1).Where(v => v.Value != common).Select(v => $"{v.Dataset}: {v.Value}")
                : g.Where(v => v.Value != common).Select(v => $"{v.Recipe} on {v.Dataset}: {v.Value}"))
            .ToList();
        return exceptions.Count == 0 ? common : $"{common} ({string.Join(", ", exceptions)})";
    }

    private static string Format(object value) => value switch
    {
        bool b => b ? "on" : "off",
        double d => d.ToString("G4", CultureInfo.InvariantCulture),
        Enum e => e.ToString().ToLowerInvariant(),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };
}
