"""PyTorch peer of scripts/gpu-check.sh on the same GPU: the same ResNet-18
(CIFAR stem: 3x3 conv, no max-pool; torchvision's BasicBlock layout) for
20 SGD steps of batch 128 on 3x32x32 inputs, and the same MLP
(784-256-256-10, dropout 0.1) for one MNIST-sized epoch of Adam steps of
batch 128, each batch copied from host memory as `plastic train` uploads
it. fp32 with TF32 off on both sides; cuDNN picks its algorithms
(benchmark mode). Prints "torch <what>: <value>" lines."""
import time

import torch
import torch.nn.functional as F

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
torch.backends.cudnn.benchmark = True
dev = "cuda"
torch.manual_seed(1)


from torch_models import ResNet18, mlp  # noqa: E402 (copied beside this script)


def timed(step, n, warm):
    for _ in range(warm):
        step()
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(n):
        step()
    torch.cuda.synchronize()
    return time.perf_counter() - t


net = ResNet18().to(dev)
opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
xs = torch.randn(128, 3, 32, 32)
ys = torch.randint(0, 10, (128,))


def resnet_step():
    x, y = xs.to(dev), ys.to(dev)
    opt.zero_grad(set_to_none=True)
    F.cross_entropy(net(x), y).backward()
    opt.step()


el = timed(resnet_step, 20, 5)
print(f"torch {torch.__version__} resnet18 batch 128 step ms: {el / 20 * 1e3:.1f}")

mnet = mlp().to(dev)
mopt = torch.optim.Adam(mnet.parameters(), lr=1e-3)
X = torch.randn(60000, 784)
Y = torch.randint(0, 10, (60000,))
batches = [(X[i:i + 128], Y[i:i + 128]) for i in range(0, 60000, 128)]
it = iter(batches)


def mlp_step():
    global it
    try:
        x, y = next(it)
    except StopIteration:
        it = iter(batches)
        x, y = next(it)
    x, y = x.to(dev), y.to(dev)
    mopt.zero_grad(set_to_none=True)
    loss = F.cross_entropy(mnet(x), y)
    loss.backward()
    mopt.step()
    return loss.item()  # plastic reads the step's loss back too


el = timed(mlp_step, len(batches), 20)
print(f"torch mlp batch 128 samples/s: {60000 / el:.0f}")
