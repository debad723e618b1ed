"""A small CNN trained on MNIST by PyTorch and exported by torch.onnx.export, with what PyTorch itself reads on test
digits: the producer's word that a described foreign model must keep. Run with Debian's python3-torch 1.13 from this
folder: `/usr/bin/python3 make_trained.py ~/.cache/cnn/mnist` (MNIST from data/get-mnist.sh). One thread and fixed
seeds: the same torch on the same kind of CPU makes the same file.

- torch-mnist.onnx: input "input" [N, 1, 28, 28], normalised outside the graph with MNIST's mean 0.1307 and std 0.3081
  (as PyTorch's MNIST example does), logits out.
- torch-mnist-reference.json: PyTorch's accuracy on MNIST's 10,000 test digits, and its prediction for each of the
  1,000 embedded test digits of data/mnist-5k (which the tests read), with their accuracy.
"""
import gzip
import json
import os
import struct
import sys

import torch
import torch.nn as nn

# The files are written beside this script, wherever it is run from (the MNIST folder is taken as given first).
MNIST = os.path.abspath(os.path.expanduser(sys.argv[1] if len(sys.argv) > 1 else "~/.cache/cnn/mnist"))
os.chdir(os.path.dirname(os.path.abspath(__file__)))
torch.set_num_threads(1)
torch.manual_seed(1)
MEAN, STD = 0.1307, 0.3081


def idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    if magic == 2051:
        rows, cols = struct.unpack(">II", data[8:16])
        return torch.frombuffer(bytearray(data[16:]), dtype=torch.uint8).view(count, 1, rows, cols).float() / 255
    return torch.frombuffer(bytearray(data[8:]), dtype=torch.uint8).long()


def find(folder, name):
    for candidate in (name, name + ".gz"):
        if os.path.exists(os.path.join(folder, candidate)):
            return os.path.join(folder, candidate)
    raise FileNotFoundError(os.path.join(folder, name))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 5)
        self.conv2 = nn.Conv2d(8, 16, 5)
        self.fc = nn.Linear(16 * 4 * 4, 10)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.max_pool2d(torch.relu(self.conv2(x)), 2)
        return self.fc(x.reshape(x.shape[0], -1))


mnist = MNIST
train_x, train_y = idx(find(mnist, "train-images-idx3-ubyte")), idx(find(mnist, "train-labels-idx1-ubyte"))
test_x, test_y = idx(find(mnist, "t10k-images-idx3-ubyte")), idx(find(mnist, "t10k-labels-idx1-ubyte"))
net = Net()
optimizer = torch.optim.Adam(net.parameters(), lr=3e-3)
for epoch in range(3):
    order = torch.randperm(len(train_y))
    for start in range(0, len(order), 128):
        batch = order[start:start + 128]
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(net((train_x[batch] - MEAN) / STD), train_y[batch])
        loss.backward()
        optimizer.step()
net.eval()
with torch.no_grad():
    accuracy = (net((test_x - MEAN) / STD).argmax(1) == test_y).float().mean().item()
    here = os.path.dirname(os.path.abspath(__file__))
    embedded = os.path.join(here, "..", "..", "..", "data", "mnist-5k")
    five_x, five_y = idx(os.path.join(embedded, "t10k-images-idx3-ubyte.gz")), idx(os.path.join(embedded, "t10k-labels-idx1-ubyte.gz"))
    predictions = net((five_x - MEAN) / STD).argmax(1)
torch.onnx.export(net, torch.zeros((1, 1, 28, 28)), "torch-mnist.onnx", input_names=["input"], output_names=["logits"],
                  opset_version=13, dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
with open("torch-mnist-reference.json", "w") as f:
    json.dump({"mnist_test_accuracy": round(accuracy, 6), "embedded_test_accuracy": round((predictions == five_y).float().mean().item(), 6),
               "embedded_test_predictions": predictions.tolist()}, f, separators=(",", ":"))
print(f"MNIST test accuracy {accuracy:.4f}; embedded test digits {(predictions == five_y).float().mean().item():.4f}")
