"""The PyTorch peers' models, one definition for every peer script
(torch_peer.py, torch_e2e.py and the GPU check's gpu-peer.py): the same
architectures as the toolkit's models/ package."""

import torch
from torch import nn
import torch.nn.functional as F


def mlp():
    # models/mlp.go: 784-256-256-10, ReLU, dropout 0.1 after each hidden layer.
    return nn.Sequential(
        nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.1),
        nn.Linear(256, 256), nn.ReLU(), nn.Dropout(0.1),
        nn.Linear(256, 10))


def cnn():
    # models/cnn.go: the authors' CIFAR CNN.
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, 1, 1), nn.ReLU(),
        nn.Conv2d(32, 64, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(128 * 8 * 8, 256), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(256, 10))


class BasicBlock(nn.Module):
    # models/resnet.go basicBlock: relu(bn2(conv2(relu(bn1(conv1 x)))) + shortcut x).
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, 0, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        return F.relu(h + (x if self.downsample is None else self.downsample(x)))


class ResNet18(nn.Module):
    # models/resnet.go: CIFAR stem (3x3 conv, stride 1, no max-pool), 4 stages of 2 blocks.
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        blocks, cin = [], 64
        for stage, width in enumerate([64, 128, 256, 512]):
            for blk in range(2):
                blocks.append(BasicBlock(cin, width, 2 if stage > 0 and blk == 0 else 1))
                cin = width
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(512, classes)

    def forward(self, x):
        h = self.blocks(F.relu(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(h, 1), 1))
