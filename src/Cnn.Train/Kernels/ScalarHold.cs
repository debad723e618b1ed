using TorchSharp;

namespace Cnn.Train.Kernels;

/// <summary>
/// Keeps the <see cref="Scalar"/>s a tensor expression uses alive until it is disposed. TorchSharp 0.107 hands a
/// Scalar's native handle to libtorch without keeping the Scalar reachable, and Scalars have finalizers: an implicit
/// one (<c>x * 2.0</c>, <c>t.div_(4f)</c>) can be finalized by a garbage collection on another thread while libtorch
/// still reads it, which failed a distillation run at epoch 7 with "Unknown scalar type" in <c>div</c>. Scalars are
/// not tracked by dispose scopes either, so code on the training path writes <c>hold[2.0]</c> for every number it
/// passes to a tensor operation, with the hold disposed after the operations return. That includes additions:
/// TorchSharp's <c>a + b</c> and <c>a.add_(b)</c> pass an implicit alpha of 1 (a second run failed so, in
/// <c>add</c>), hence <c>a.add(b, hold[1])</c>; a tensor minus a tensor passes none.
/// </summary>
internal sealed class ScalarHold : IDisposable
{
    private readonly List<Scalar> _held = [];

    /// <summary>A Scalar of <paramref name="value"/> (float64, as C#'s implicit conversion makes it), held until disposal.</summary>
    public Scalar this[double value]
    {
        get
        {
            var scalar = value.ToScalar();
            _held.Add(scalar);
            return scalar;
        }
    }

    /// <summary>Frees every Scalar this hold made.</summary>
    public void Dispose()
    {
        foreach (var scalar in _held)
        {
            scalar.Dispose();
        }

        _held.Clear();
    }
}
