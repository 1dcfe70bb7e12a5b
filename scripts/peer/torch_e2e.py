"""PyTorch equivalents of what scripts/bench-e2e.sh times, on this machine's CPUs.

Needs Debian's CPU PyTorch (apt-get install -y python3-torch); nothing else.

  python3 scripts/peer/torch_e2e.py mlp-train --mnist DIR [--epochs 10] [--checkpoint FILE]
      `plastic train --model mlp --dataset mnist --optimizer adam --lr 1e-3` written in PyTorch:
      read the four MNIST IDX files (gzip) from DIR, scale to [0,1] then (x-0.5)/0.5, MLP
      784-256-256-10 (ReLU, dropout 0.1), Adam, batch 128 in a new random order each epoch
      (last batch partial), train loss/accuracy per epoch, then the same evaluation schedule:
      the whole test set after every epoch (eval mode, no autograd, batches of 128) and a
      checkpoint of model and optimizer written atomically (temp file, fsync, rename).
  python3 scripts/peer/torch_e2e.py mlp-step [--steps 300]
  python3 scripts/peer/torch_e2e.py resnet18-step [--steps 3]
      one training step (forward, backward, Adam) on a fixed random batch of 128, as
      go test ./models -bench 'MLPTrainStep$|ResNet18TrainStep' does; ResNet-18 with the
      CIFAR stem (3x3 stride-1 conv, no max-pool), torchvision's layout, defined here.

Every mode takes --threads N (default 2) and prints `... samples/s=RATE`; mlp-train also
prints its per-epoch metrics and `seconds=` of the run from reading the data to the last
checkpoint (the bench script also times the whole process from outside).
"""
import argparse
import gzip
import os
import struct
import time

import numpy as np
import torch
import torch.nn.functional as F


from torch_models import ResNet18, mlp  # noqa: E402 (the same folder)


def step_bench(name, model, shape, steps):
    x = torch.rand(*shape)
    y = torch.randint(0, 10, (shape[0],))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    for _ in range(max(1, steps // 10)):
        step()
    t, c = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step()
    el, cpu = time.perf_counter() - t, time.process_time() - c
    print(f"torch {torch.__version__} {name} step batch={shape[0]} threads={torch.get_num_threads()} "
          f"samples/cpu-s={steps * shape[0] / cpu:.1f} samples/s={steps * shape[0] / el:.1f}")


def read_idx(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    nd = raw[3]
    dims = struct.unpack(">" + "I" * nd, raw[4:4 + 4 * nd])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * nd).reshape(dims)


def load_mnist(d):
    def pair(img, lab):
        x = read_idx(os.path.join(d, img)).reshape(-1, 784).astype(np.float32) / 255
        x = (x - 0.5) / 0.5
        return torch.from_numpy(x), torch.from_numpy(read_idx(os.path.join(d, lab)).astype(np.int64))
    return (pair("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
            pair("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"))


def save_atomic(obj, path):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        torch.save(obj, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def mlp_train(a):
    t0 = time.perf_counter()
    (xtr, ytr), (xte, yte) = load_mnist(a.mnist)
    model = mlp()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(1)
    n, bs = xtr.shape[0], 128
    for epoch in range(1, a.epochs + 1):
        te = time.perf_counter()
        model.train()
        perm = torch.randperm(n, generator=g)
        loss_sum, correct = 0.0, 0
        for lo in range(0, n, bs):
            idx = perm[lo:lo + bs]
            x, y = xtr[idx], ytr[idx]
            opt.zero_grad()
            out = model(x)
            loss = F.cross_entropy(out, y)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(idx)
            correct += (out.argmax(1) == y).sum().item()
        train_s = time.perf_counter() - te
        model.eval()
        tl, tc = 0.0, 0
        with torch.no_grad():
            for lo in range(0, xte.shape[0], bs):
                out = model(xte[lo:lo + bs])
                y = yte[lo:lo + bs]
                tl += F.cross_entropy(out, y, reduction="sum").item()
                tc += (out.argmax(1) == y).sum().item()
        if a.checkpoint:
            save_atomic({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch}, a.checkpoint)
        print(f"epoch {epoch} train_loss={loss_sum / n:.4f} train_accuracy={correct / n:.4f} "
              f"test_loss={tl / xte.shape[0]:.4f} test_accuracy={tc / xte.shape[0]:.4f} "
              f"train_samples/s={n / train_s:.0f}", flush=True)
    el = time.perf_counter() - t0
    print(f"torch {torch.__version__} mlp-train epochs={a.epochs} threads={torch.get_num_threads()} "
          f"seconds={el:.3f} samples/s={a.epochs * n / el:.1f}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["mlp-train", "mlp-step", "resnet18-step"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--mnist", help="folder of the four MNIST IDX files (mlp-train)")
    ap.add_argument("--checkpoint", help="checkpoint file written after every epoch (mlp-train)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    if a.what == "mlp-train":
        if not a.mnist:
            ap.error("mlp-train needs --mnist DIR")
        mlp_train(a)
    elif a.what == "mlp-step":
        step_bench("mlp-784-256-256-10", mlp(), (128, 784), a.steps or 300)
    else:
        step_bench("resnet18-cifar", ResNet18(), (128, 3, 32, 32), a.steps or 3)
