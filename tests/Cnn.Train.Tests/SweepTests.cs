using Cnn.Tests;
using Cnn.Train.Training;

namespace Cnn.Train.Tests;

public sealed class SweepTests : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    private static RunSummary Summary(double accuracy, int epochs) =>
        new("completed", accuracy, 0.1, epochs, 0.2, epochs, false, 1000, 2000, 100, 1, 1, Cnn.Contracts.ExecutionDevice.Cpu, 200);

    [Fact]
    public void Grid_is_every_combination_in_order()
    {
        var grid = Sweep.Grid([1e-3, 3e-3], [0.5, 1, 2], [1, 2]);
        Assert.Equal(12, grid.Count);
        Assert.Equal(new SweepPoint(1e-3, 0.5, 1), grid[0]);
        Assert.Equal(new SweepPoint(3e-3, 2, 2), grid[^1]);
        Assert.Equal("lr0.001-w0.5-s1", grid[0].FolderName);
        var e = Assert.Throws<ArgumentException>(() => Sweep.Grid([], [1], [1]));
        Assert.Equal("a sweep needs at least one learning rate, width and seed; got 0, 1 and 1", e.Message);
    }

    [Fact]
    public void Several_seeds_give_mean_and_sample_std_per_setting()
    {
        var results = new List<SweepResult>
        {
            new(new SweepPoint(1e-3, 1, 1), Summary(0.90, 10), false),
            new(new SweepPoint(1e-3, 1, 2), Summary(0.94, 12), false),
        };
        Sweep.WriteReports(_dir.Path, results);
        string md = File.ReadAllText(_dir.Combine(Sweep.MarkdownFile));
        // mean 92 %, sample std of (90, 94) = 2.83.
        Assert.Contains("| 0.001 | 1 | 2 | 92.00 ± 2.83 % | 0.2000 ± 0.0000 | 11.0 ± 1.4 |", md);
        Assert.Equal(3, File.ReadAllLines(_dir.Combine(Sweep.CsvFile)).Length);
    }
}
