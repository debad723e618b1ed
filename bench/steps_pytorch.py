#!/usr/bin/env python3
"""The PyTorch side of `Cnn.TrainBench`: the same training step on the same shapes, timed phase by phase.

Usage: steps_pytorch.py lenet|cifar [--threads N] [--batch N] [--steps N]
"""
import argparse
import time

import torch
import torch.nn.functional as F

from cifar_pytorch import CifarCoarseNet
from lenet_pytorch import LeNet5

PHASES = ["batch", "zero_grad", "forward", "loss", "backward", "step", "bookkeeping"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model", choices=["lenet", "cifar"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int)
    parser.add_argument("--steps", type=int)
    parser.add_argument("--channels-last", action="store_true")
    args = parser.parse_args()
    lenet = args.model == "lenet"
    batch = args.batch or (64 if lenet else 128)
    steps = args.steps or (2000 if lenet else 150)
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    channels, size, classes = (1, 28, 10) if lenet else (3, 32, 20)
    net = LeNet5() if lenet else CifarCoarseNet()
    if args.channels_last:
        net = net.to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(7)
    images = torch.randint(0, 256, (8192, channels, size, size), dtype=torch.uint8, generator=generator)
    labels = torch.randint(0, classes, (8192,), generator=generator)
    order = torch.randperm(8192, generator=generator)
    mean, std = [0.3] * channels, [0.25] * channels

    seconds = [0.0] * len(PHASES)
    net.train()
    for s in range(-50, steps):
        if s == 0:
            seconds = [0.0] * len(PHASES)
        marks = [time.perf_counter()]
        start = (s + 50) * batch % (8192 - batch)
        idx = order[start:start + batch]
        x = images.index_select(0, idx).float().div_(255)
        x = (x - torch.tensor(mean).view(1, -1, 1, 1)) / torch.tensor(std).view(1, -1, 1, 1)
        if args.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        y = labels.index_select(0, idx)
        marks.append(time.perf_counter())
        optimizer.zero_grad()
        marks.append(time.perf_counter())
        logits = net(x)
        marks.append(time.perf_counter())
        loss = F.cross_entropy(logits, y)
        marks.append(time.perf_counter())
        loss.backward()
        marks.append(time.perf_counter())
        optimizer.step()
        marks.append(time.perf_counter())
        loss.item()
        logits.argmax(1).eq(y).sum().item()
        marks.append(time.perf_counter())
        for i in range(len(PHASES)):
            seconds[i] += marks[i + 1] - marks[i]

    total = sum(seconds)
    print(f"{'phase':<24} {'µs/step':>8} {'share':>6}")
    for name, t in zip(PHASES, seconds):
        print(f"{name:<24} {t / steps * 1e6:8.1f} {t / total:6.0%}")
    print(f"{'step':<24} {total / steps * 1e6:8.1f}   ({batch * steps / total:.0f} images/s)")
    # Evaluation: the forward pass alone under inference_mode, as cifar_pytorch.py evaluates, after 5 warm-up batches.
    net.eval()
    with torch.inference_mode():
        evaluated, eval_seconds = 0, 0.0
        for s in range(-5, max(steps // 4, 10)):
            start = (s + 5) * batch % (8192 - batch)
            x = (images[start:start + batch].float().div_(255) - torch.tensor(mean).view(1, -1, 1, 1)) / torch.tensor(std).view(1, -1, 1, 1)
            if args.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            begin = time.perf_counter()
            net(x).argmax(1).sum().item()
            if s >= 0:
                eval_seconds += time.perf_counter() - begin
                evaluated += batch
    print(f"{'eval forward':<24} {eval_seconds / (evaluated / batch) * 1e6:8.1f}   ({evaluated / eval_seconds:.0f} images/s)")
    one = torch.zeros(1)
    begin = time.perf_counter()
    for _ in range(200_000):
        one.add_(1.0)
    print(f"{'one in-place add on [1]':<24} {(time.perf_counter() - begin) / 200_000 * 1e6:8.2f} µs")


if __name__ == "__main__":
    main()
