"""The peer of `Cnn.TrainBench convcheck`: PyTorch's convolutions (Debian's python3-torch, oneDNN 2.6) in float32 and
bfloat16, forward and both backward passes, NCHW or channels-last (--channels-last), against float64 (PyTorch's own
kernels). Prints each result's largest error over its largest value. Usage: /usr/bin/python3 bench/convcheck_pytorch.py
[--channels-last]"""
import sys

import torch
import torch.nn.functional as F

SHAPES = [(6, 16, 14, 5), (12, 32, 14, 5), (15, 40, 14, 5), (24, 64, 14, 5), (3, 32, 32, 3), (8, 6, 10, 3), (12, 20, 8, 3)]


def main():
    torch.set_num_threads(1)
    channels_last = "--channels-last" in sys.argv
    g = torch.Generator().manual_seed(11)
    print("in  out size k  fp32: forward grad-in grad-w   bf16: forward grad-in grad-w", "(channels-last)" if channels_last else "(NCHW)")
    for cin, cout, size, k in SHAPES:
        x = torch.randn(4, cin, size, size, generator=g)
        w = torch.randn(cout, cin, k, k, generator=g) * 0.2
        up = torch.randn(4, cout, size, size, generator=g)
        results = {t: run(x, w, up, t, k // 2, channels_last) for t in (torch.float64, torch.float32, torch.bfloat16)}
        ref = results[torch.float64]
        errors = [" ".join(f"{relative(a, b):8.1e}" for a, b in zip(results[t], ref)) for t in (torch.float32, torch.bfloat16)]
        print(f"{cin:2} {cout:4} {size:4} {k}  {errors[0]}   {errors[1]}")


def run(x, w, up, dtype, padding, channels_last):
    xi = x.to(dtype)
    if channels_last:
        xi = xi.contiguous(memory_format=torch.channels_last)
    xi = xi.detach().requires_grad_()
    wi = w.to(dtype).detach().requires_grad_()
    y = F.conv2d(xi, wi, padding=padding)
    y.backward(up.to(dtype))
    return y.double(), xi.grad.double(), wi.grad.double()


def relative(actual, expected):
    return ((actual - expected).abs().max() / expected.abs().max()).item()


if __name__ == "__main__":
    main()
