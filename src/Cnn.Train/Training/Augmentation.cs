using Cnn.Train.Kernels;
using Cnn.Contracts;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Cnn.Train.Training;

/// <summary>A seeded random transform of a training batch of raw intensities [N, C, H, W], applied before normalisation.</summary>
public interface IAugmentation
{
    /// <summary>Transforms the batch; the same generator state gives the same output.</summary>
    Tensor Apply(Tensor batch, Generator generator);
}

/// <summary>
/// Random jitter for handwriting, drawn per image from a seeded generator and applied on the device to raw intensities
/// (background 0) before normalisation: rotation, scale and shift; a horizontal shear (slant) up to
/// <see cref="MaxShear"/>; an elastic distortion (Simard et al. 2003: a random displacement field smoothed by a Gaussian
/// of <see cref="ElasticSigma"/> pixels and scaled to <see cref="ElasticAlpha"/> pixels); and, with probability
/// <see cref="StrokeChange"/>, strokes made a pixel thinner or thicker (erosion or dilation with a 3×3 cross); and,
/// with probability <see cref="Blur"/>, a Gaussian blur of σ 0.6, 0.9 or 1.2 px with the image's brightest value kept,
/// as a coarse scan or an out-of-focus photo reaches the net. Each extra is off at 0 and then draws nothing, so runs
/// without them repeat the earlier ones bit for bit.
/// </summary>
public sealed record AffineJitter(
    double MaxRotationDegrees = 10, double MaxScale = 0.1, double MaxShiftPixels = 2, double MaxShear = 0,
    double ElasticAlpha = 0, double ElasticSigma = 4, double StrokeChange = 0, double Blur = 0) : IAugmentation
{
    /// <summary>Jitters a float batch [N, C, H, W]; the same generator state gives the same output.</summary>
    public Tensor Apply(Tensor batch, Generator generator)
    {
        long n = batch.shape[0];
        long height = batch.shape[2];
        long width = batch.shape[3];
        using var hold = new ScalarHold();
        var u = rand(new long[] { n, 4 }, generator: generator).to(batch.device).mul_(hold[2]).sub_(hold[1]);
        var angle = u[.., 0] * hold[MaxRotationDegrees * Math.PI / 180.0];
        var scale = (u[.., 1] * hold[MaxScale]).add(hold[1.0], hold[1]);
        // affine_grid works in [-1, 1] coordinates: a shift of p pixels is 2p / size.
        var tx = u[.., 2] * hold[2.0 * MaxShiftPixels / width];
        var ty = u[.., 3] * hold[2.0 * MaxShiftPixels / height];
        var cos = angle.cos() / scale;
        var sin = angle.sin() / scale;
        var theta = MaxShear > 0 ? Sheared(cos, sin, tx, ty, generator, batch.device) : stack(new[] { cos, -sin, tx, sin, cos, ty }, dim: 1);
        var grid = F.affine_grid(theta.view(n, 2, 3).to_type(batch.dtype), new[] { n, batch.shape[1], height, width }, align_corners: false);
        if (ElasticAlpha > 0)
        {
            grid = grid.add(Displacement(n, height, width, generator, batch.device).to_type(batch.dtype), hold[1]);
        }

        var jittered = F.grid_sample(batch, grid, mode: GridSampleMode.Bilinear, padding_mode: GridSamplePaddingMode.Zeros, align_corners: false);
        var stroked = StrokeChange > 0 ? ChangeStrokes(jittered, generator) : jittered;
        return Blur > 0 ? Blurred(stroked, generator) : stroked;
    }

    /// <summary>Blur σ of <see cref="Blur"/>'s three kinds.</summary>
    private static readonly double[] BlurSigmas = [0.6, 0.9, 1.2];

    /// <summary>Per image: with probability Blur one of the blurs (equally likely), rescaled to the image's own maximum.</summary>
    private Tensor Blurred(Tensor batch, Generator generator)
    {
        var r = rand(new long[] { batch.shape[0], 1, 1, 1 }, generator: generator).to(batch.device);
        var peak = batch.amax(new long[] { 1, 2, 3 }, keepdim: true);
        using var hold = new ScalarHold();
        var result = batch;
        for (int k = 0; k < BlurSigmas.Length; k++)
        {
            var blurred = Gaussian(batch, BlurSigmas[k]);
            blurred = blurred * (peak / blurred.amax(new long[] { 1, 2, 3 }, keepdim: true).clamp_min(hold[1e-6]));
            var chosen = (r >= hold[Blur * k / BlurSigmas.Length]) & (r < hold[Blur * (k + 1) / BlurSigmas.Length]);
            result = where(chosen, blurred, result);
        }

        return result;
    }

    /// <summary>A separable Gaussian blur of every channel, zero outside the image.</summary>
    internal static Tensor Gaussian(Tensor batch, double sigma)
    {
        var (g, radius) = GaussianWeights(sigma, batch.dtype, batch.device);
        g = g / g.sum();
        long channels = batch.shape[1];
        var horizontal = g.view(1, 1, 1, -1).expand(channels, 1, 1, (2 * radius) + 1);
        var vertical = g.view(1, 1, -1, 1).expand(channels, 1, (2 * radius) + 1, 1);
        var once = F.conv2d(batch, horizontal, padding: new long[] { 0, radius }, groups: channels);
        return F.conv2d(once, vertical, padding: new long[] { radius, 0 }, groups: channels);
    }

    /// <summary>exp(−x² / 2σ²) at the integers within 3σ of 0 (not normalised), and that reach.</summary>
    private static (Tensor Weights, int Radius) GaussianWeights(double sigma, ScalarType dtype, Device device)
    {
        int radius = (int)Math.Ceiling(3 * sigma);
        var x = arange(-radius, radius + 1, dtype: dtype, device: device);
        using var hold = new ScalarHold();
        return ((-(x * x) / hold[2 * sigma * sigma]).exp(), radius);
    }

    /// <summary>Rotation-and-scale followed by a shear x' = x + s·y, s drawn in ±MaxShear.</summary>
    private Tensor Sheared(Tensor cos, Tensor sin, Tensor tx, Tensor ty, Generator generator, Device device)
    {
        using var hold = new ScalarHold();
        var s = rand(new long[] { cos.shape[0] }, generator: generator).to(device).mul_(hold[2]).sub_(hold[1]).mul_(hold[MaxShear]);
        return stack(new[] { cos, (cos * s) - sin, tx, sin, (sin * s).add(cos, hold[1]), ty }, dim: 1);
    }

    /// <summary>A smooth random displacement per pixel, [N, H, W, 2] in affine_grid's coordinates.</summary>
    private Tensor Displacement(long n, long height, long width, Generator generator, Device device)
    {
        using var hold = new ScalarHold();
        var field = rand(new long[] { n, 2, height, width }, generator: generator).to(device).mul_(hold[2]).sub_(hold[1]);
        // The Gaussian is separable: two passes of 2·3σ+1 taps instead of one of (2·3σ+1)², 625 taps a pixel at σ 4,
        // which made elastic distortion cost several times the rest of a LeNet-5 step.
        var smooth = Gaussian(field, ElasticSigma);
        // Pixels to [-1, 1] units: x over the width, y over the height.
        var units = tensor(new[] { (float)(2 * ElasticAlpha / width), (float)(2 * ElasticAlpha / height) }, device: device).view(1, 2, 1, 1);
        return (smooth * units).permute(0, 2, 3, 1);
    }

    /// <summary>Per image: with probability StrokeChange/2 dilated, StrokeChange/2 eroded (3×3 cross), else as it is.</summary>
    private Tensor ChangeStrokes(Tensor batch, Generator generator)
    {
        var r = rand(new long[] { batch.shape[0], 1, 1, 1 }, generator: generator).to(batch.device);
        Tensor Cross(Tensor t) => maximum(F.max_pool2d(t, new long[] { 1, 3 }, new long[] { 1, 1 }, new long[] { 0, 1 }), F.max_pool2d(t, new long[] { 3, 1 }, new long[] { 1, 1 }, new long[] { 1, 0 }));
        var thicker = Cross(batch);
        var thinner = -Cross(-batch);
        using var hold = new ScalarHold();
        return where(r < hold[StrokeChange / 2], thicker, where(r < hold[StrokeChange], thinner, batch));
    }
}

/// <summary>
/// CIFAR's standard augmentation: a random crop of the image padded by <see cref="Padding"/> zero pixels on each side
/// (a whole-pixel shift of up to ±Padding) and a horizontal flip with probability ½, drawn per image.
/// </summary>
public sealed record CropFlip(int Padding = 4) : IAugmentation
{
    public Tensor Apply(Tensor batch, Generator generator)
    {
        long n = batch.shape[0];
        long height = batch.shape[2];
        long width = batch.shape[3];
        var shifts = randint(-Padding, Padding + 1, new long[] { n, 2 }, generator: generator).to(batch.device).to_type(batch.dtype);
        using var hold = new ScalarHold();
        var flip = (rand(new long[] { n }, generator: generator).to(batch.device) < hold[0.5]).to_type(batch.dtype).mul(hold[-2]).add(hold[1], hold[1]);
        // Whole-pixel shifts in affine_grid's [-1, 1] coordinates (align_corners false) sample pixel centres exactly,
        // and zero padding outside the image is what padding-then-cropping gives.
        var tx = shifts[.., 0] * hold[2.0 / width];
        var ty = shifts[.., 1] * hold[2.0 / height];
        var zero = zeros_like(tx);
        var one = ones_like(tx);
        var theta = stack(new[] { flip, zero, tx, zero, one, ty }, dim: 1).view(n, 2, 3);
        var grid = F.affine_grid(theta, new[] { n, batch.shape[1], height, width }, align_corners: false);
        return F.grid_sample(batch, grid, mode: GridSampleMode.Nearest, padding_mode: GridSamplePaddingMode.Zeros, align_corners: false);
    }
}

/// <summary>The augmentation each kind of data trains with when <see cref="TrainOptions.Augment"/> is on.</summary>
public static class Augmentations
{
    /// <summary>The augmentation for images of <paramref name="data"/>'s kind with the run's options.</summary>
    /// <param name="data">How the data set's images are read (<see cref="Data.Dataset.Preprocessing"/>): colour photos are
    /// cropped and mirrored; digits and garments are jittered, since a mirrored digit is another digit or none.</param>
    /// <param name="options">The run's options.</param>
    /// <param name="targetInk">The training data's mean intensity (its normalisation mean), which <see cref="PhotoRoundTrip"/>'s stroke weight aims at.</param>
    public static IAugmentation For(PreprocessingKind data, TrainOptions options, double targetInk) => data switch
    {
        PreprocessingKind.Color => new CropFlip(),
        _ when options.Photos > 0 => new Chained(Jitter(options), new PhotoRoundTrip(options.Photos, targetInk, options.Deskew, options.Threads)),
        _ => Jitter(options),
    };

    private static AffineJitter Jitter(TrainOptions options) =>
        new(MaxShear: options.Shear, ElasticAlpha: options.Elastic, StrokeChange: options.StrokeChange, Blur: options.Blur);
}
