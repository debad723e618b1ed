using Cnn.Train.Kernels;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cnn.Train.Training;

/// <summary>
/// TorchSharp's Adam with every parameter, gradient and moment a view of one flat buffer each, so a step is one chain of
/// eight ops over all the weights instead of one per parameter. TorchSharp's Adam runs that chain per parameter — on
/// LeNet-5 ten chains of small tensors, 356–396 µs of a 5 ms step, mostly the cost of the calls — and zero_grad makes
/// one call per parameter too (bench/README.md, "The optimizer step"). The arithmetic is the same op for op, and
/// elementwise ops give each element the same result wherever it sits in a buffer, so the weights are bit-identical
/// to TorchSharp's Adam (tested). The moments live in the TorchSharp optimizer's own state, as views, so checkpoints
/// keep its format and older ones still load.
/// </summary>
internal sealed class FlatAdam : IDisposable
{
    private readonly List<Adam.State> _states;
    private readonly Adam.Options _options;
    private readonly Buffers _buffers;

    private FlatAdam(Adam optimizer, List<Adam.State> states, Buffers buffers)
    {
        Optimizer = optimizer;
        // The parameter group's own options: the trainer's per-batch learning rate lands here.
        _options = (Adam.Options)optimizer.state_dict().Options.Single();
        _states = states;
        _buffers = buffers;
    }

    /// <summary>The TorchSharp optimizer: its parameter group carries the learning rate, its state the checkpoint.</summary>
    public Adam Optimizer { get; }

    /// <summary>The flat buffer every parameter of the model is a view of.</summary>
    public Tensor Parameters => _buffers.Parameters;

    /// <summary>Adam's steps taken so far (restored from a checkpoint with the optimizer's state).</summary>
    public long Steps => _states[0].step;

    /// <summary>
    /// Moves <paramref name="model"/>'s parameters into one buffer on their device (same values, same module fields) and
    /// makes an Adam optimizer with TorchSharp's defaults besides <paramref name="learningRate"/> over them.
    /// </summary>
    public static FlatAdam Create(nn.Module model, double learningRate)
    {
        var (parameters, gradients, offsets) = Flatten(model);
        var optimizer = optim.Adam(model.parameters(), learningRate);
        var states = optimizer.state_dict().State.Cast<Adam.State>().ToList();
        var averages = zeros_like(parameters);
        var squares = zeros_like(parameters);
        foreach (var (state, parameter) in states.Zip(optimizer.parameters()))
        {
            long at = offsets[parameter.Handle];
            state.exp_avg.Dispose();
            state.exp_avg_sq.Dispose();
            state.exp_avg = ViewOf(averages, at, parameter.shape);
            state.exp_avg_sq = ViewOf(squares, at, parameter.shape);
        }

        return new FlatAdam(optimizer, states, new Buffers(parameters, gradients, averages, squares));
    }

    /// <summary>Zeroes every gradient in one call (they stay allocated, as TorchSharp's zero_grad leaves them).</summary>
    public void ZeroGrad()
    {
        using var noGrad = no_grad();
        _buffers.Gradients.zero_();
    }

    /// <summary>One Adam update of every parameter, in the order and with the scalars of TorchSharp's Adam.step.</summary>
    public void Step()
    {
        var group = _options;
        if (group.weight_decay != 0 || group.amsgrad == true || group.maximize == true)
        {
            throw new InvalidOperationException("FlatAdam implements plain Adam: no weight decay, AMSGrad or maximize");
        }

        long step = AdvanceSteps();
        double beta1 = group.beta1!.Value, beta2 = group.beta2!.Value;
        double biasCorrection1 = 1 - Math.Pow(beta1, step);
        double biasCorrection2 = 1 - Math.Pow(beta2, step);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        using var hold = new ScalarHold();
        var (parameters, gradients, averages, squares) = _buffers;
        averages.mul_(hold[beta1]).add_(gradients, alpha: hold[1 - beta1]);
        squares.mul_(hold[beta2]).addcmul_(gradients, gradients.conj(), value: hold[1 - beta2]);
        var denominator = (squares.sqrt() / hold[Math.Sqrt(biasCorrection2)]).add_(hold[group.eps!.Value]);
        parameters.addcdiv_(averages, denominator, value: hold[-(group.LearningRate!.Value / biasCorrection1)]);
    }

    public void Dispose()
    {
        Optimizer.Dispose();
        foreach (var buffer in new[] { _buffers.Parameters, _buffers.Gradients, _buffers.Averages, _buffers.Squares })
        {
            buffer.Dispose();
        }
    }

    /// <summary>Every parameter takes the same steps; a checkpoint restores their common count.</summary>
    private long AdvanceSteps()
    {
        long step = _states[0].step + 1;
        foreach (var state in _states)
        {
            if (state.step != step - 1)
            {
                throw new InvalidOperationException("Adam's per-parameter step counts differ; FlatAdam needs them equal");
            }

            state.step = step;
        }

        return step;
    }

    /// <summary>
    /// Replaces each parameter by a view of one buffer holding the same values, and gives it a gradient that is a view
    /// of a second buffer, which backward then accumulates into. Returns each new parameter's offset in the buffers.
    /// </summary>
    private static (Tensor Parameters, Tensor Gradients, Dictionary<IntPtr, long> Offsets) Flatten(nn.Module model)
    {
        var owned = model.modules().Prepend(model)
            .SelectMany(module => module.named_parameters(recurse: false).Select(p => (Module: module, Name: p.name, Parameter: p.parameter)))
            .ToList();
        var first = owned[0].Parameter;
        long total = owned.Sum(p => p.Parameter.numel());
        var parameters = zeros(total, dtype: first.dtype, device: first.device);
        var gradients = zeros(total, dtype: first.dtype, device: first.device);
        var offsets = new Dictionary<IntPtr, long>();
        using var noGrad = no_grad();
        long at = 0;
        foreach (var (module, name, old) in owned)
        {
            long[] shape = old.shape;
            var view = ViewOf(parameters, at, shape);
            view.copy_(old);
            var parameter = new Parameter(view, old.requires_grad) { grad = ViewOf(gradients, at, shape) };
            Replace(module, name, parameter); // the module's setter disposes the old parameter
            offsets[parameter.Handle] = at;
            at += parameter.numel();
        }

        return (parameters, gradients, offsets);
    }

    private static Tensor ViewOf(Tensor buffer, long at, long[] shape)
    {
        using var slice = buffer.narrow(0, at, shape.Aggregate(1L, (a, b) => a * b));
        return slice.view(shape);
    }

    private static void Replace(nn.Module module, string name, Parameter parameter)
    {
        switch (module, name)
        {
            case (Conv2d conv, "weight"): conv.weight = parameter; break;
            case (Conv2d conv, "bias"): conv.bias = parameter; break;
            case (Linear linear, "weight"): linear.weight = parameter; break;
            case (Linear linear, "bias"): linear.bias = parameter; break;
            case (BatchNorm2d norm, "weight"): norm.weight = parameter; break;
            case (BatchNorm2d norm, "bias"): norm.bias = parameter; break;
            default: throw new NotSupportedException($"FlatAdam cannot move parameter '{name}' of a {module.GetType().Name}");
        }
    }

    /// <summary>The four flat buffers; every parameter, gradient and moment is a view of one of them.</summary>
    private readonly record struct Buffers(Tensor Parameters, Tensor Gradients, Tensor Averages, Tensor Squares);
}
