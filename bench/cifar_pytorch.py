#!/usr/bin/env python3
"""The PyTorch peer of `cnn train cifar`: the same 4-conv BatchNorm net, data files, batch, optimizer and loop.

Prints one JSON line: training images/s (train loop only) and evaluation images/s (eval mode, inference_mode, over the
validation and test sets), as `cnn` reports them in summary.json.
Usage: cifar_pytorch.py DATA_DIR --epochs 1 --threads 2 [--batch-size 128] [--channels-last] [--bf16]
--bf16: PyTorch's own mixed precision on the CPU, torch.cpu.amp.autocast(dtype=torch.bfloat16) around the forward pass
and the loss (training and evaluation), as its documentation shows; weights and optimizer stay fp32.
"""
import contextlib
import argparse
import json
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

RECORD = 2 + 3 * 32 * 32


def read(path):
    raw = np.fromfile(path, np.uint8)
    if raw.size % RECORD:
        raise ValueError(f"{path}: {raw.size} bytes is not a whole number of {RECORD}-byte records")
    raw = raw.reshape(-1, RECORD)
    return torch.from_numpy(raw[:, 2:].reshape(-1, 3, 32, 32).copy()), torch.from_numpy(raw[:, 0].astype(np.int64))


class CifarCoarseNet(nn.Module):
    def __init__(self, classes=20):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32)
        self.conv2, self.bn2 = nn.Conv2d(32, 32, 3, padding=1), nn.BatchNorm2d(32)
        self.pool1 = nn.MaxPool2d(2, 2)
        self.conv3, self.bn3 = nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64)
        self.conv4, self.bn4 = nn.Conv2d(64, 64, 3, padding=1), nn.BatchNorm2d(64)
        self.pool2 = nn.MaxPool2d(2, 2)
        self.fc1 = nn.Linear(64 * 8 * 8, 256)
        self.dropout = nn.Dropout(0.5)
        self.fc2 = nn.Linear(256, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.pool1(F.relu(self.bn2(self.conv2(x))))
        x = F.relu(self.bn3(self.conv3(x)))
        x = self.pool2(F.relu(self.bn4(self.conv4(x))))
        x = F.relu(self.fc1(torch.flatten(x, 1)))
        return self.fc2(self.dropout(x))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--channels-last", action="store_true",
                        help="convert the model and every batch to torch.channels_last")
    parser.add_argument("--bf16", action="store_true", help="torch.cpu.amp.autocast in bfloat16")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--val-fraction", type=float, default=0.1)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    images, labels = read(f"{args.data}/train.bin")
    test_x, _ = read(f"{args.data}/test.bin")
    perm = torch.randperm(len(images))
    val = round(len(images) * args.val_fraction)
    train_x, train_y, val_x = images[perm[val:]], labels[perm[val:]], images[perm[:val]]
    mean = train_x.double().div(255).mean((0, 2, 3)).float().view(1, 3, 1, 1)
    std = train_x.double().div(255).std((0, 2, 3), unbiased=False).float().view(1, 3, 1, 1)

    autocast = (lambda: torch.cpu.amp.autocast(dtype=torch.bfloat16)) if args.bf16 else contextlib.nullcontext
    model = CifarCoarseNet()
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-4)
    train_seconds, eval_seconds, seen, evaluated = 0.0, 0.0, 0, 0
    for _ in range(args.epochs):
        model.train()
        order = torch.randperm(len(train_x))
        start = time.perf_counter()
        for b in range(0, len(train_x), args.batch_size):
            idx = order[b:b + args.batch_size]
            x = (train_x[idx].float().div_(255) - mean) / std
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
        train_seconds += time.perf_counter() - start
        seen += len(train_x)
        for data in (val_x, test_x):
            model.eval()
            start = time.perf_counter()
            # inference_mode: no autograd bookkeeping at all, PyTorch's fastest evaluation mode.
            with torch.inference_mode(), autocast():
                for b in range(0, len(data), args.batch_size):
                    x = (data[b:b + args.batch_size].float().div_(255) - mean) / std
                    if args.channels_last:
                        x = x.contiguous(memory_format=torch.channels_last)
                    model(x).argmax(1).sum().item()
            eval_seconds += time.perf_counter() - start
            evaluated += len(data)
    print(json.dumps({"train_images_per_second": seen / train_seconds, "eval_images_per_second": evaluated / eval_seconds,
                      "threads": args.threads, "channels_last": args.channels_last, "bf16": args.bf16, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
