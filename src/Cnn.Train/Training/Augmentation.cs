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
/// Random affine jitter for digit-like images: rotation, scale and shift drawn per image from a seeded generator, applied
/// on the device to raw intensities (background 0) before normalisation.
/// </summary>
public sealed record AffineJitter(double MaxRotationDegrees = 10, double MaxScale = 0.1, double MaxShiftPixels = 2) : IAugmentation
{
    /// <summary>Jitters a float batch [N, C, H, W]; the same generator state gives the same output.</summary>
    public Tensor Apply(Tensor batch, Generator generator)
    {
        long n = batch.shape[0];
        long height = batch.shape[2];
        long width = batch.shape[3];
        var u = rand(new long[] { n, 4 }, generator: generator).to(batch.device).mul_(2).sub_(1);
        var angle = u[.., 0] * (MaxRotationDegrees * Math.PI / 180.0);
        var scale = u[.., 1] * MaxScale + 1.0;
        // affine_grid works in [-1, 1] coordinates: a shift of p pixels is 2p / size.
        var tx = u[.., 2] * (2.0 * MaxShiftPixels / width);
        var ty = u[.., 3] * (2.0 * MaxShiftPixels / height);
        var cos = angle.cos() / scale;
        var sin = angle.sin() / scale;
        var theta = stack(new[] { cos, -sin, tx, sin, cos, ty }, dim: 1).view(n, 2, 3).to_type(batch.dtype);
        var grid = F.affine_grid(theta, new[] { n, batch.shape[1], height, width }, align_corners: false);
        return F.grid_sample(batch, grid, mode: GridSampleMode.Bilinear, padding_mode: GridSamplePaddingMode.Zeros, align_corners: false);
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
        var flip = (rand(new long[] { n }, generator: generator).to(batch.device) < 0.5).to_type(batch.dtype) * -2 + 1;
        // Whole-pixel shifts in affine_grid's [-1, 1] coordinates (align_corners false) sample pixel centres exactly,
        // and zero padding outside the image is what padding-then-cropping gives.
        var tx = shifts[.., 0] * (2.0 / width);
        var ty = shifts[.., 1] * (2.0 / height);
        var zero = zeros_like(tx);
        var one = ones_like(tx);
        var theta = stack(new[] { flip, zero, tx, zero, one, ty }, dim: 1).view(n, 2, 3);
        var grid = F.affine_grid(theta, new[] { n, batch.shape[1], height, width }, align_corners: false);
        return F.grid_sample(batch, grid, mode: GridSampleMode.Nearest, padding_mode: GridSamplePaddingMode.Zeros, align_corners: false);
    }
}

/// <summary>The augmentation each architecture trains with when <see cref="TrainOptions.Augment"/> is on.</summary>
public static class Augmentations
{
    public static IAugmentation For(Models.ModelConfig model) => model switch
    {
        Models.LeNet5Config => new AffineJitter(),
        Models.CifarCoarseNetConfig => new CropFlip(),
        _ => throw new NotSupportedException($"no augmentation is defined for {model.Name}"),
    };
}
