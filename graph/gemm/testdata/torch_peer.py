"""PyTorch peer for graph/gemm's benchmarks, on the same CPUs.

Run: /usr/bin/python3 graph/gemm/testdata/torch_peer.py [--threads 2]
(Debian's python3-torch). Prints SGEMM GFLOP/s for the shapes of
BenchmarkSgemm/BenchmarkSgemm2048 and the MLP's training samples/s, each
per wall second and per CPU-second of the process (the second one is what
to compare with the Go benchmarks' */cpu-s metrics, run with -cpu 1 and
--threads 1, when other jobs share the machine).
"""
import argparse, time
import torch

def measure(f, work, seconds=0.5):
    f()
    best_w = best_c = 0.0
    for _ in range(3):
        reps, t0, c0 = 0, time.perf_counter(), time.process_time()
        while time.perf_counter() - t0 < seconds:
            f(); reps += 1
        w, c = time.perf_counter() - t0, time.process_time() - c0
        best_w, best_c = max(best_w, work * reps / w), max(best_c, work * reps / max(c, 1e-9))
    return best_w, best_c

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    for (m, n, k) in [(2048, 2048, 2048), (128, 256, 784), (128, 256, 256), (128, 10, 256),
                      (784, 256, 128), (1024, 64, 576), (128 * 16 * 16, 128, 1152)]:
        x, y = torch.rand(m, k), torch.rand(k, n)
        w, c = measure(lambda: x @ y, 2 * m * n * k / 1e9)
        print(f"torch {torch.__version__} threads={a.threads} sgemm {m}x{k}*{k}x{n}: {w:.1f} GFLOP/s, {c:.1f} GFLOP/cpu-s")
    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256),
                                torch.nn.ReLU(), torch.nn.Linear(256, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss = torch.nn.CrossEntropyLoss()
    xb, yb = torch.rand(128, 784), torch.randint(0, 10, (128,))
    def step():
        opt.zero_grad(); loss(model(xb), yb).backward(); opt.step()
    w, c = measure(step, 128, seconds=1.0)
    print(f"torch {torch.__version__} threads={a.threads} mlp-784-256-256-10 adam batch=128: {w:.0f} samples/s, {c:.0f} samples/cpu-s")

if __name__ == "__main__":
    main()
