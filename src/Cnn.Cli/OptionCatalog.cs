using System.ComponentModel;
using System.Reflection;
using Spectre.Console.Cli;

namespace Cnn.Cli;

/// <summary>
/// Every option of every command, read from the settings classes: for "did you mean" on a misspelt option and for
/// naming the option and the expected kind of value when a value cannot be converted.
/// </summary>
internal static class OptionCatalog
{
    private static readonly Lazy<IReadOnlyList<(string Name, Type Type)>> Options = new(() =>
        typeof(OptionCatalog).Assembly.GetTypes().Concat(typeof(Cnn.Commands.ServeSettings).Assembly.GetTypes())
            .Where(t => typeof(CommandSettings).IsAssignableFrom(t))
            .SelectMany(t => t.GetProperties())
            .Select(p => (Attribute: p.GetCustomAttribute<CommandOptionAttribute>(), p.PropertyType))
            .Where(o => o.Attribute != null)
            .SelectMany(o => o.Attribute!.LongNames.Select(n => ($"--{n}", o.PropertyType)))
            .Distinct()
            .ToList());

    /// <summary>The closest known option to <paramref name="unknown"/>, if it is a plausible misspelling.</summary>
    public static string? Suggest(string unknown)
    {
        string wanted = "--" + unknown.TrimStart('-');
        return Options.Value.Select(o => (o.Name, Distance: EditDistance.Between(wanted, o.Name)))
            .Where(o => o.Distance <= Math.Max(1, wanted.Length / 4))
            .OrderBy(o => o.Distance)
            .Select(o => o.Name)
            .FirstOrDefault();
    }

    /// <summary>What values <paramref name="option"/> takes, in words, or null if it is not known.</summary>
    /// <remarks>An option name used by several commands (--lr takes a number in train, a list in sweep) gets the first
    /// description that says something.</remarks>
    public static string? Expected(string option) =>
        Options.Value.Where(o => o.Name == option).Select(o => Describe(Nullable.GetUnderlyingType(o.Type) ?? o.Type)).FirstOrDefault(d => d != null);

    private static string? Describe(Type type) => type switch
    {
        _ when type == typeof(int) || type == typeof(long) => "a whole number",
        _ when type == typeof(double) || type == typeof(float) => "a number such as 0.003 or 3e-3",
        _ when type.IsEnum => $"one of {string.Join(", ", Enum.GetNames(type).Select(n => n.ToLowerInvariant()))}",
        _ => null,
    };
}

/// <summary>
/// A description that ends with the default taken from the recipe registry, so help text cannot drift from the
/// defaults training uses.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class DefaultsDescriptionAttribute(string text, string trainOption) : DescriptionAttribute(text)
{
    public override string Description => $"{DescriptionValue} Default: {Cnn.Train.Recipes.Recipes.DescribeDefault(o => typeof(Cnn.Train.Training.TrainOptions).GetProperty(trainOption)!.GetValue(o)!)}";
}

/// <summary>
/// A description ending with a default the library declares as a constant (<c>InferenceOptions.DefaultMinProbability</c>,
/// <c>Distillation.DefaultTemperature</c>): the attribute takes the constant itself, so help cannot drift from it.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class ConstantDefaultDescriptionAttribute(string text, object value) : DescriptionAttribute(text)
{
    public override string Description => $"{DescriptionValue} Default: {Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)}";
}

/// <summary>The <c>--dataset</c> description of a recipe, listing its data sets from the registry.</summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class DatasetsDescriptionAttribute(string recipe) : DescriptionAttribute
{
    public override string Description
    {
        get
        {
            var r = Cnn.Train.Recipes.Recipes.Get(recipe);
            return $"One of: {string.Join("; ", r.Datasets.Select(d => $"{d.Name} ({d.Summary})"))}. Default: {r.DefaultDataset.Name}";
        }
    }
}
