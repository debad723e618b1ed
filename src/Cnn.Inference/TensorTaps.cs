using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Cnn.Inference;

/// <summary>A tensor's values for one image.</summary>
/// <param name="Name">Its name in the graph.</param>
/// <param name="Shape">Its dimensions, the batch of 1 first.</param>
/// <param name="Values">Its values in C order.</param>
public sealed record NamedTensor(string Name, IReadOnlyList<long> Shape, float[] Values);

/// <summary>
/// Any tensor of a model's graph by name: the names asked for are made graph outputs of an in-memory copy
/// (<see cref="OnnxGraphReader.WithOutputs"/>) and one session is kept per set of names, a bounded number of them.
/// </summary>
internal sealed class TensorTaps(byte[] model, OnnxGraphStructure graph, string source, InferenceOptions options, string? externalData = null) : IDisposable
{
    /// <summary>Sessions kept; a further set of names gets a session for its call alone.</summary>
    private const int MaxSessions = 8;

    private readonly HashSet<string> _written = graph.NodeOutputs.Select(n => n.Output).ToHashSet(StringComparer.Ordinal);
    private readonly Dictionary<string, InferenceSession> _sessions = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>The tensors <paramref name="names"/> for one input of <paramref name="inputShape"/>, fed to the graph's one input.</summary>
    public IReadOnlyDictionary<string, NamedTensor> Run(float[] input, long[] inputShape, IReadOnlyList<string> names, RunOptions runOptions)
    {
        Check(names);
        var (session, owned) = SessionFor(names);
        try
        {
            using var value = OrtValue.CreateTensorValueFromMemory(input, inputShape);
            using var results = session.Run(runOptions, [.. graph.Inputs], [value], [.. names]);
            var tensors = new Dictionary<string, NamedTensor>(StringComparer.Ordinal);
            for (int i = 0; i < names.Count; i++)
            {
                var info = results[i].GetTensorTypeAndShape();
                if (info.ElementDataType != TensorElementType.Float)
                {
                    throw new UnknownOutputException($"{source}: tensor '{names[i]}' holds {info.ElementDataType} values; only float tensors can be read");
                }

                tensors[names[i]] = new NamedTensor(names[i], info.Shape, results[i].GetTensorDataAsSpan<float>().ToArray());
            }

            return tensors;
        }
        catch (OnnxRuntimeException e)
        {
            throw new ModelRunException($"{source}: ONNX Runtime failed reading {string.Join(", ", names)}: {e.Message.Split('\n')[0]}", e);
        }
        finally
        {
            if (owned)
            {
                session.Dispose();
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var session in _sessions.Values)
            {
                session.Dispose();
            }

            _sessions.Clear();
        }
    }

    /// <summary>Refuses a name the graph has no node writing, naming the closest real ones, and a name given twice.</summary>
    private void Check(IReadOnlyList<string> names)
    {
        if (graph.Inputs.Count != 1)
        {
            throw new InvalidModelException($"{source}: the graph has {graph.Inputs.Count} inputs ({string.Join(", ", graph.Inputs)}); expected one image input");
        }

        if (names.Count == 0)
        {
            throw new UnknownOutputException($"{source}: no tensor names given; expected one or more of the graph's tensors (cnn inspect lists them)");
        }

        foreach (var name in names)
        {
            if (graph.Inputs.Contains(name))
            {
                throw new UnknownOutputException($"{source}: '{name}' is the graph's input, not a tensor it computes; the input is what you pass");
            }

            if (!_written.Contains(name))
            {
                throw new UnknownOutputException($"{source}: no tensor named '{name}'; the closest: {string.Join(", ", OnnxGraph.Closest(name, _written))} (cnn inspect lists them all)");
            }
        }

        if (names.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            throw new UnknownOutputException($"{source}: tensor '{twice.Key}' is asked for twice; name each once");
        }
    }

    private (InferenceSession Session, bool Owned) SessionFor(IReadOnlyList<string> names)
    {
        string key = string.Join('\n', names.Order(StringComparer.Ordinal));
        lock (_lock)
        {
            if (_sessions.TryGetValue(key, out var kept))
            {
                return (kept, false);
            }
        }

        var bytes = OnnxGraphReader.WithOutputs(model, names.Where(n => !graph.Outputs.Contains(n)));
        var (session, _) = SessionFactory.Open(bytes, source, options, warn: false, externalData);
        lock (_lock)
        {
            if (_sessions.TryGetValue(key, out var raced))
            {
                session.Dispose();
                return (raced, false);
            }

            if (_sessions.Count < MaxSessions)
            {
                _sessions[key] = session;
                return (session, false);
            }
        }

        return (session, true);
    }
}
