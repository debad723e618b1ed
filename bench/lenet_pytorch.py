#!/usr/bin/env python3
"""The PyTorch peer of `cnn train lenet`: the same LeNet-5, data, batch, optimizer and per-batch bookkeeping.

Prints one JSON line with the training images/s (train loop only, as `cnn` reports it in summary.json).
Usage: lenet_pytorch.py DATA_DIR --epochs 2 --threads 1 [--batch-size 64] [--channels-last] [--bf16]
--bf16: torch.cpu.amp.autocast(dtype=torch.bfloat16) around the forward pass and the loss, as PyTorch documents it.
"""
import argparse
import contextlib
import gzip
import json
import os
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path):
    if not os.path.exists(path) and path.endswith(".gz"):
        path = path[:-3]  # data/get-mnist.sh keeps MNIST's files unpacked
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    magic, count = struct.unpack(">ii", data[:8])
    if magic == 2051:
        rows, cols = struct.unpack(">ii", data[8:16])
        return np.frombuffer(data, np.uint8, offset=16).reshape(count, 1, rows, cols)
    if magic == 2049:
        return np.frombuffer(data, np.uint8, offset=8)
    raise ValueError(f"{path}: magic {magic}; expected 2051 or 2049")


class LeNet5(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.pool1 = nn.AvgPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.pool2 = nn.AvgPool2d(2, 2)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, classes)

    def forward(self, x):
        x = self.pool1(F.relu(self.conv1(x)))
        x = self.pool2(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--channels-last", action="store_true",
                        help="convert the model and every batch to torch.channels_last")
    parser.add_argument("--bf16", action="store_true", help="torch.cpu.amp.autocast in bfloat16")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--val-fraction", type=float, default=1 / 12)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    images = torch.from_numpy(read_idx(f"{args.data}/train-images-idx3-ubyte.gz").copy())
    labels = torch.from_numpy(read_idx(f"{args.data}/train-labels-idx1-ubyte.gz").astype(np.int64))
    perm = torch.randperm(len(images))
    val = round(len(images) * args.val_fraction)
    train_x, train_y = images[perm[val:]], labels[perm[val:]]
    mean = train_x.double().div(255).mean().item()
    std = train_x.double().div(255).std(unbiased=False).item()

    autocast = (lambda: torch.cpu.amp.autocast(dtype=torch.bfloat16)) if args.bf16 else contextlib.nullcontext
    model = LeNet5()
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    seconds = 0.0
    seen = 0
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(train_x))
        start = time.perf_counter()
        for b in range(0, len(train_x), args.batch_size):
            idx = order[b:b + args.batch_size]
            x = train_x[idx].float().div_(255)
            x = (x - mean) / std
            if args.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            y = train_y[idx]
            optimizer.zero_grad()
            with autocast():
                logits = model(x)
                loss = F.cross_entropy(logits, y)
            loss.backward()
            optimizer.step()
            loss.item()
            logits.argmax(1).eq(y).sum().item()
        seconds += time.perf_counter() - start
        seen += len(train_x)
    print(json.dumps({"images_per_second": seen / seconds, "threads": args.threads, "channels_last": args.channels_last, "bf16": args.bf16, "torch": torch.__version__,
                      "epochs": args.epochs}))


if __name__ == "__main__":
    main()
