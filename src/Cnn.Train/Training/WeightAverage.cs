using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Cnn.Train.Training;

/// <summary>
/// An exponential moving average of a model's weights (Polyak averaging), kept beside the flat buffer
/// <see cref="FlatAdam"/> trains, so an update is one op over all the weights. Adam's last steps jitter the weights
/// around a minimum; their average sits nearer its middle. The decay ramps up as (1 + step) / (10 + step) until it
/// reaches the one asked for, so the random initial weights fade within the first steps instead of weighing on the
/// average for thousands. Only parameters are averaged: a BatchNorm layer keeps its own running statistics.
/// </summary>
internal sealed class WeightAverage : IDisposable
{
    private readonly Tensor _weights;
    private readonly Tensor _average;
    private readonly double _decay;

    /// <param name="weights">The flat buffer every parameter is a view of (<see cref="FlatAdam.Parameters"/>).</param>
    /// <param name="decay">The average's weight per step once ramped up, in [0, 1).</param>
    public WeightAverage(Tensor weights, double decay)
    {
        _weights = weights;
        _decay = decay;
        using var noGrad = no_grad();
        _average = weights.detach().clone();
    }

    /// <summary>The decay used after Adam's step number <paramref name="step"/> (1 for the first).</summary>
    internal double DecayAt(long step) => Math.Min(_decay, (1.0 + step) / (10.0 + step));

    /// <summary>Moves the average towards the weights after Adam's step number <paramref name="step"/>.</summary>
    public void Update(long step)
    {
        using var noGrad = no_grad();
        // The weight as a 0-dim tensor (what C#'s implicit conversion made here before), held until lerp_ returns:
        // an implicit temporary can be finalized while libtorch reads it (Kernels/ScalarHold.cs).
        using Tensor weight = 1 - DecayAt(step);
        _average.lerp_(_weights, weight);
    }

    /// <summary>Puts the average into the model's weights until disposed, which puts the trained weights back.</summary>
    public IDisposable Applied()
    {
        using var noGrad = no_grad();
        var trained = _weights.detach().clone();
        _weights.copy_(_average);
        return new Restore(_weights, trained);
    }

    /// <summary>Writes the average as its element count and float32 values (checkpoint.bin).</summary>
    public void Save(BinaryWriter writer)
    {
        using var values = _average.cpu();
        var floats = values.data<float>().ToArray();
        writer.Write(floats.LongLength);
        writer.Write(MemoryMarshal.AsBytes(floats.AsSpan()));
    }

    /// <summary>Reads what <see cref="Save"/> wrote; a count that is not this model's is a damaged or foreign file.</summary>
    public void Load(BinaryReader reader)
    {
        long count = reader.ReadInt64();
        if (count != _average.numel())
        {
            throw new FormatException($"the weight average holds {count} values; expected {_average.numel()}, this model's parameter count");
        }

        var floats = new float[count];
        var bytes = MemoryMarshal.AsBytes(floats.AsSpan());
        if (reader.Read(bytes) != bytes.Length)
        {
            throw new EndOfStreamException("the weight average ends early");
        }

        using var noGrad = no_grad();
        using var loaded = tensor(floats);
        _average.copy_(loaded);
    }

    public void Dispose() => _average.Dispose();

    private sealed class Restore(Tensor weights, Tensor trained) : IDisposable
    {
        public void Dispose()
        {
            using var noGrad = no_grad();
            weights.copy_(trained);
            trained.Dispose();
        }
    }
}
