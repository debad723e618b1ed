using Microsoft.ML.OnnxRuntime;

namespace Cnn.Inference;

/// <summary>
/// A reusable destination for one image's feature maps, made by <see cref="CnnModel.CreateFeatureMapBuffer"/> and
/// refilled by each <see cref="CnnModel.FillFeatureMaps"/> call. Its arrays are bound to ONNX Runtime once, which
/// writes into them directly: repeated calls (a live view, a video, a sweep over images) allocate nothing for the maps.
/// The values are overwritten by the next call, so copy what you keep. Not for concurrent calls: use one per thread
/// (a second concurrent call is refused). Owns native ONNX Runtime values: dispose it.
/// </summary>
public sealed class FeatureMapBuffer : IDisposable
{
    private readonly OrtValue[] _outputValues;
    private int _busy;
    private int _disposed;

    /// <summary>Takes ownership of <paramref name="image"/>, whose probabilities array receives the prediction.</summary>
    internal FeatureMapBuffer(object owner, string source, IReadOnlyList<FeatureMap> maps, SingleImageBuffers image)
    {
        Owner = owner;
        Source = source;
        Image = image;
        Maps = maps.ToDictionary(m => m.Name);
        Names = [.. maps.Select(m => m.Name)];
        OutputNames = [.. Names, Cnn.Contracts.OnnxNames.Probabilities];
        _outputValues = new OrtValue[maps.Count + 1];
        _outputValues[^1] = image.OutputValue[0];
        try
        {
            for (int k = 0; k < maps.Count; k++)
            {
                _outputValues[k] = OrtValue.CreateTensorValueFromMemory(maps[k].Values, [1, maps[k].Channels, maps[k].Height, maps[k].Width]);
            }
        }
        catch
        {
            DisposeValues();
            throw;
        }
    }

    /// <summary>The maps this buffer receives, by name; their <see cref="FeatureMap.Values"/> change with each call.</summary>
    public IReadOnlyDictionary<string, FeatureMap> Maps { get; }

    /// <summary>The names of <see cref="Maps"/>, in the order asked for.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The model (its features session) this buffer was made for.</summary>
    internal object Owner { get; }

    /// <summary>The model file the buffer was made from, for messages.</summary>
    internal string Source { get; }

    /// <summary>The input and probabilities, bound once like the maps.</summary>
    internal SingleImageBuffers Image { get; }

    internal string[] OutputNames { get; }

    /// <summary>The maps' bound values, then the probabilities': in <see cref="OutputNames"/>' order.</summary>
    internal IReadOnlyCollection<OrtValue> OutputValues => _outputValues;

    /// <summary>Releases the bound native values; a fill in progress on another thread finishes first.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // A misused buffer may still be filled by another thread: wait for that call before freeing what it writes to.
        var spin = new SpinWait();
        while (Volatile.Read(ref _busy) != 0)
        {
            spin.SpinOnce();
        }

        DisposeValues();
    }

    /// <summary>Marks the buffer in use for one call; the returned scope releases it.</summary>
    internal Lease Acquire()
    {
        if (Interlocked.Exchange(ref _busy, 1) != 0)
        {
            throw new InvalidOperationException("this FeatureMapBuffer is already being filled by another call; use one buffer per thread");
        }

        if (Volatile.Read(ref _disposed) != 0)
        {
            Volatile.Write(ref _busy, 0);
            throw new ObjectDisposedException(nameof(FeatureMapBuffer));
        }

        return new Lease(this);
    }

    private void DisposeValues()
    {
        // The last value is the image's own; it goes with the image.
        foreach (var value in _outputValues[..^1])
        {
            value?.Dispose();
        }

        Image.Dispose();
    }

    internal readonly struct Lease(FeatureMapBuffer buffer) : IDisposable
    {
        public void Dispose() => Volatile.Write(ref buffer._busy, 0);
    }
}
