"""PyTorch peer of the models/ training-step benchmarks: the same networks,
batch and optimizer, timed in PyTorch on this machine's CPUs, so that
`go test ./models -bench 'VsTorch|Torch'` can print both rates side by side.

Needs only python3 with torch (Debian: apt-get install -y python3-torch);
ResNet-18 is defined here, not taken from torchvision.

    python3 scripts/peer/torch_peer.py mlp|cnn|resnet18 [--threads 2] [--steps N] [--optimizer adam]

Prints one line per measurement, e.g.
    torch 1.13.0 mlp-784-256-256-10 adam batch=128 params=269322 samples/s=20002.3
(the benchmarks check params against the Go model's parameter count).
Inputs are random (timing only). The networks match models/ (mlp.go, cnn.go,
resnet.go): layer sizes, dropout, batch norm, the CIFAR stem of ResNet-18.
"""
import argparse
import time

import torch
from torch import nn


from torch_models import ResNet18, cnn, mlp  # noqa: E402 (the same folder)


def bench(name, model, shape, steps, opt_name, lr):
    x = torch.rand(*shape)
    y = torch.randint(0, 10, (shape[0],))
    opt = {"sgd": lambda p: torch.optim.SGD(p, lr=lr, momentum=0.9),
           "adam": lambda p: torch.optim.Adam(p, lr=lr),
           "adamw": lambda p: torch.optim.AdamW(p, lr=lr)}[opt_name](model.parameters())
    loss = nn.CrossEntropyLoss()
    model.train()

    def step():
        opt.zero_grad()
        loss(model(x), y).backward()
        opt.step()

    for _ in range(max(2, steps // 10)):  # warm-up
        step()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    el = time.perf_counter() - t
    params = sum(p.numel() for p in model.parameters())
    print(f"torch {torch.__version__} {name} {opt_name} batch={shape[0]} params={params} samples/s={steps * shape[0] / el:.1f}", flush=True)


MODELS = {
    "mlp": ("mlp-784-256-256-10", mlp, (128, 784), 300),
    "cnn": ("cnn-cifar", cnn, (128, 3, 32, 32), 10),
    "resnet18": ("resnet18-cifar", ResNet18, (128, 3, 32, 32), 3),
}

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", choices=sorted(MODELS))
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--steps", type=int, default=0, help="timed steps (default: 300 mlp, 10 cnn, 3 resnet18)")
    ap.add_argument("--optimizer", default="adam", choices=["sgd", "adam", "adamw"])
    a = ap.parse_args()
    if a.threads < 1 or a.steps < 0:
        ap.error("--threads must be >= 1 and --steps >= 0")
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    name, build, shape, default_steps = MODELS[a.what]
    bench(name, build(), shape, a.steps or default_steps, a.optimizer, 1e-3)
