"""PyTorch's own static int8 path for the CIFAR net, beside `cnn export --int8`: the peer of issue #39.

/usr/bin/python3 bench/int8_pytorch.py [--threads N] [--engine onednn|qnnpack] [--batches N]

The seed's net (cifar_pytorch.py), random weights (the speed does not depend on them), batch norms fused into the
convolutions, quantized by FX graph mode with the engine's default qconfig, calibrated on 8 batches of uniform
noise; batch-64 inference timed in float (NCHW and channels-last) and in int8, the median of the batches reported.
"""
import argparse
import statistics
import time

import torch
from torch.ao.quantization import get_default_qconfig_mapping
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

from cifar_pytorch import CifarCoarseNet


def timed(model, batch, batches):
    with torch.no_grad():
        for _ in range(5):
            model(batch)
        times = []
        for _ in range(batches):
            start = time.perf_counter()
            model(batch)
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--engine", default="onednn", choices=["onednn", "qnnpack"])
    parser.add_argument("--batches", type=int, default=100)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    torch.backends.quantized.engine = args.engine
    model = CifarCoarseNet().eval()
    batch = torch.rand(64, 3, 32, 32)
    print(f"torch {torch.__version__}, {args.threads} thread(s), engine {args.engine}, batch 64, median of {args.batches}")
    print(f"float NCHW           {timed(model, batch, args.batches):8.2f} ms")
    print(f"float channels-last  {timed(model.to(memory_format=torch.channels_last), batch.to(memory_format=torch.channels_last), args.batches):8.2f} ms")
    model = CifarCoarseNet().eval()
    prepared = prepare_fx(model, get_default_qconfig_mapping(args.engine), (batch,))
    with torch.no_grad():
        for _ in range(8):
            prepared(torch.rand(64, 3, 32, 32))
    quantized = convert_fx(prepared)
    print(f"int8                 {timed(quantized, batch, args.batches):8.2f} ms")


if __name__ == "__main__":
    main()
