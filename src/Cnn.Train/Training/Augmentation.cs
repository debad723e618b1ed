using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Cnn.Train.Training;

/// <summary>
/// Random affine jitter for digit-like images: rotation, scale and shift drawn per image from a seeded generator, applied
/// on the device to raw intensities (background 0) before normalisation.
/// </summary>
public sealed record AffineJitter(double MaxRotationDegrees = 10, double MaxScale = 0.1, double MaxShiftPixels = 2)
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
