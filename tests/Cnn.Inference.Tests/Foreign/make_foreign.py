"""Small CNNs exported by another producer (PyTorch's torch.onnx.export), committed for the tests of models this
project did not train. Run with Debian's python3-torch 1.13 (`/usr/bin/python3 make_foreign.py` in this folder);
the weights are seeded, so the files are the same every run of the same torch.

- torch-nchw-opset11.onnx: a LeNet-like net, NCHW input [N, 1, 28, 28], dynamic batch, opset 11, tensors named by
  torch (/conv1/Conv_output_0 ...), normalisation outside the graph, logits out (no softmax).
- torch-nchw-opset17.onnx: the same at the newest opset this torch offers.
- torch-nchw-opset7.onnx: the same at the oldest, opset 7 (ONNX IR 3), the batch fixed at 1.
- torch-nhwc-batch1.onnx: the same net taking NHWC input [1, 28, 28, 1], the batch fixed at 1.
- torch-color-nhwc.onnx: a colour net taking NHWC input [N, 32, 32, 3] (where NHWC and NCHW differ in memory).
- helper-no-shapes.onnx: a conv net written by the onnx Python helper (opset 9) with no shape information.
- helper-two-inputs.onnx: a graph with two inputs, which is not an image classifier (refused).
- torch-reference.json: what PyTorch computes for seeded inputs, to compare against.
"""
import os

import torch
import torch.nn as nn

# The files are written beside this script, wherever it is run from.
os.chdir(os.path.dirname(os.path.abspath(__file__)))


class Net(nn.Module):
    def __init__(self, nhwc=False, channels=1, side=28):
        super().__init__()
        self.nhwc = nhwc
        self.conv1 = nn.Conv2d(channels, 4, 5)
        self.conv2 = nn.Conv2d(4, 8, 5)
        pooled = ((side - 4) // 2 - 4) // 2
        self.fc = nn.Linear(8 * pooled * pooled, 10)

    def forward(self, x):
        if self.nhwc:
            x = x.permute(0, 3, 1, 2)
        x = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.max_pool2d(torch.relu(self.conv2(x)), 2)
        return self.fc(x.reshape(x.shape[0], -1))


def export(net, shape, path, opset, dynamic):
    axes = {"input": {0: "batch"}, "logits": {0: "batch"}} if dynamic else None
    torch.onnx.export(net, torch.zeros(shape), path, input_names=["input"], output_names=["logits"],
                      opset_version=opset, dynamic_axes=axes)


torch.manual_seed(1)
net = Net().eval()
export(net, (1, 1, 28, 28), "torch-nchw-opset11.onnx", 11, True)
export(net, (1, 1, 28, 28), "torch-nchw-opset17.onnx", 17, True)
export(net, (1, 1, 28, 28), "torch-nchw-opset7.onnx", 7, False)
nhwc = Net(nhwc=True).eval()
nhwc.load_state_dict(net.state_dict())
export(nhwc, (1, 28, 28, 1), "torch-nhwc-batch1.onnx", 11, False)

# What PyTorch itself computes for one seeded input, for the tests to compare ONNX Runtime's reading of the same
# tensors by name against: the first conv's output, its ReLU, the first pool, and the logits.
import json

x = torch.rand((1, 1, 28, 28), generator=torch.Generator().manual_seed(7))
with torch.no_grad():
    conv1 = net.conv1(x)
    relu1 = torch.relu(conv1)
    pool1 = torch.max_pool2d(relu1, 2)
    logits = net(x)
tensors = {"/conv1/Conv_output_0": conv1, "/Relu_output_0": relu1, "/MaxPool_output_0": pool1, "logits": logits}

torch.manual_seed(2)
color = Net(nhwc=True, channels=3, side=32).eval()
export(color, (1, 32, 32, 3), "torch-color-nhwc.onnx", 13, True)
rgb = torch.rand((1, 3, 32, 32), generator=torch.Generator().manual_seed(8))
with torch.no_grad():
    color_logits = color(rgb.permute(0, 2, 3, 1))
reference = {
    "input": [round(v, 8) for v in x.flatten().tolist()],
    "color_input_nchw": [round(v, 8) for v in rgb.flatten().tolist()],
    "color_logits": [round(v, 8) for v in color_logits.flatten().tolist()],
    "tensors": {k: {"shape": list(t.shape), "values": [round(v, 8) for v in t.flatten().tolist()]} for k, t in tensors.items()},
}
with open("torch-reference.json", "w") as f:
    json.dump(reference, f, separators=(",", ":"))

# The same net with its weights in an external data file, as large models are saved: refused by name (the library
# reads models from one file).
import os

import onnx

model = onnx.load("torch-nchw-opset11.onnx")
if os.path.exists("torch-external-data.weights"):
    os.remove("torch-external-data.weights")  # onnx appends to an existing data file
onnx.save_model(model, "torch-external-data.onnx", save_as_external_data=True, all_tensors_to_one_file=True,
                location="torch-external-data.weights", size_threshold=0)

# A graph written by the onnx Python helper, with no shape information beyond its input and output: a conv, a ReLU,
# a global average pool and a linear layer. PyTorch computes the same from the same weights, for the tests.
from onnx import TensorProto, helper, numpy_helper

torch.manual_seed(3)
w = torch.randn(6, 1, 3, 3) * 0.5
b = torch.randn(6) * 0.1
fc_w = torch.randn(10, 6)
fc_b = torch.randn(10) * 0.1
nodes = [
    helper.make_node("Conv", ["x", "w", "b"], ["conv"], pads=[1, 1, 1, 1]),
    helper.make_node("Relu", ["conv"], ["relu"]),
    helper.make_node("GlobalAveragePool", ["relu"], ["pool"]),
    helper.make_node("Flatten", ["pool"], ["flat"]),
    helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["scores"], transB=1),
]
graph = helper.make_graph(
    nodes, "helper-cnn",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 1, 28, 28])],
    [helper.make_tensor_value_info("scores", TensorProto.FLOAT, None)],
    [numpy_helper.from_array(t.numpy(), name) for t, name in ((w, "w"), (b, "b"), (fc_w, "fc_w"), (fc_b, "fc_b"))])
onnx.save_model(helper.make_model(graph, producer_name="onnx.helper", opset_imports=[helper.make_opsetid("", 9)]), "helper-no-shapes.onnx")
with torch.no_grad():
    relu = torch.relu(torch.nn.functional.conv2d(x, w, b, padding=1))
    scores = relu.mean(dim=(2, 3)) @ fc_w.T + fc_b
reference["helper"] = {"relu": [round(v, 8) for v in relu.flatten().tolist()], "scores": [round(v, 8) for v in scores.flatten().tolist()]}
with open("torch-reference.json", "w") as f:
    json.dump(reference, f, separators=(",", ":"))

two = helper.make_graph(
    [helper.make_node("Add", ["a", "b"], ["sum"])], "two-inputs",
    [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 1, 28, 28]) for n in ("a", "b")],
    [helper.make_tensor_value_info("sum", TensorProto.FLOAT, [1, 1, 28, 28])])
onnx.save_model(helper.make_model(two, producer_name="onnx.helper", opset_imports=[helper.make_opsetid("", 9)]), "helper-two-inputs.onnx")
