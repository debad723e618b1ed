using Cnn.Train.Training;

namespace Cnn.Export;

/// <summary>
/// The models of several runs (an ensemble's, or one), loaded together and disposed together: a run that fails to
/// load disposes the ones loaded before it.
/// </summary>
public sealed class RunModels : IDisposable
{
    private readonly List<RunModel> _runs;

    private RunModels(List<RunModel> runs) => _runs = runs;

    /// <summary>The runs, in the order given.</summary>
    public IReadOnlyList<RunModel> Runs => _runs;

    /// <summary>Loads each run folder's model and export plan.</summary>
    public static RunModels Load(IEnumerable<string> folders)
    {
        var runs = new List<RunModel>();
        try
        {
            foreach (var folder in folders)
            {
                runs.Add(new RunModel(new RunFolder(folder)));
            }

            return new RunModels(runs);
        }
        catch
        {
            runs.ForEach(r => r.Dispose());
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose() => _runs.ForEach(r => r.Dispose());
}
