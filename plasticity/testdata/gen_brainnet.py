#!/usr/bin/python3
"""Replay vectors of the authors' BrainNet code for plasticity/brainnet_test.go.

Runs the authors' own classes (github.com/BrainNetwork/BrainNet: network.LocalNet,
LocalNetBase.Options/UpdateScheme), unmodified, on small fixed networks (fixed input
weights A, input and graph masks, data and rule tables), one meta-learning step each:
reset, rule-based training over a batch one example at a time, the loss of the batch on
the trained network and its gradient with respect to every rule table (loss.backward()).
For every case it writes the weights after the pass (W, U), the loss, the gradients,
every example's prediction and, per example and round, the nodes top-k picked: PyTorch's
top-k keeps an unspecified set among equal values (all zeros in rounds 2..T of a fresh
additive network), and the Go test resolves exactly those ties as the authors' run did.
A draw where some training prediction is a near tie between two different output rows
(the argmax would depend on float32 rounding) is replaced by the next seed's.

Cases: T = 1 (output rule) and T = 3 (RNN + output rule; their rounds = T - 1) under
every update scheme of their code (misclassified-only / every example, output rule on
the true and predicted rows / all rows), additive and multiplicative, cross-entropy (their
CrossEntropyLoss on the softmax output) and MSE. Each case runs twice: with PyTorch's
default dtype float32 (their W and U are then float32 tensors: torch.zeros in
reset_weights) and float64 (the same code with every tensor double, for a tight check).
Their input rule is left out: LocalNetBase indexes it by activated.repeat(1, n).view(-1, n),
i.e. entry (i, j) by node (i*n + j) mod |V| rather than by node i.

Usage: /usr/bin/python3 plasticity/testdata/gen_brainnet.py PATH/TO/BrainNet [OUT.json]
(Debian's python3-torch 1.13; scikit-learn is not needed). The output defaults to
brainnet_replay.json next to this script.
"""
import json
import os
import sys
import types

import numpy as np
import torch


def load_authors(repo):
    # LocalNetBase imports sklearn.utils.shuffle, which one step never calls.
    if "sklearn" not in sys.modules:
        sk = types.ModuleType("sklearn")
        sku = types.ModuleType("sklearn.utils")
        sku.shuffle = None
        sk.utils = sku
        sys.modules["sklearn"], sys.modules["sklearn.utils"] = sk, sku
    sys.path.insert(0, repo)
    import LocalNetBase
    import network
    return network.LocalNet, LocalNetBase.Options, LocalNetBase.UpdateScheme


def case(LocalNet, Options, UpdateScheme, *, T, multiplicative, every, all_rows, loss, dtype, seed):
    rng = np.random.RandomState(seed)
    n, m, V, k, B = 4, 3, 10, 4, 12
    torch.set_default_dtype(dtype)
    # Fixed network and data (float32-representable A, so both dtypes start alike).
    A = rng.randn(V, n).astype(np.float32).astype(np.float64)
    # Masks without empty rows: a node without inputs (or in-edges) has the
    # value b exactly, 1 with multiplicative rules, and such positive ties
    # would also decide the batch's final forward pass, which the Go test
    # does not hook (it resolves the ties of the training passes only).
    while True:
        in_mask = (rng.rand(V, n) < 0.5).astype(np.float64)
        g_mask = (rng.rand(V, V) < 0.5).astype(np.float64)
        np.fill_diagonal(g_mask, 0)
        if in_mask.sum(axis=1).min() > 0 and g_mask.sum(axis=1).min() > 0:
            break
    X = (2 * rng.rand(B, n) - 1).astype(np.float32).astype(np.float64)  # the Go engine takes float32 inputs
    y = rng.randint(0, m, size=B)
    nc = 2 ** T
    rnn_rule = rng.randn(nc * nc).round(6)
    out_rule = rng.randn(nc * 2).round(6)

    use_graph = T > 1
    opts = Options(use_graph_rule=use_graph, gd_graph_rule=use_graph, use_output_rule=True,
                   gd_output_rule=True, additive_rule=not multiplicative)
    scheme = UpdateScheme(cross_entropy_loss=(loss == "softmax-ce"), mse_loss=(loss == "mse"),
                          update_misclassified=not every, update_all_edges=all_rows)
    torch.manual_seed(seed)
    net = LocalNet(n, m, V, 0.5, k, T - 1, options=opts, update_scheme=scheme)
    net.input_layer = torch.tensor(in_mask, dtype=torch.float64)
    net.graph = torch.tensor(g_mask, dtype=torch.float64)
    net.output_layer = torch.ones(m, V, dtype=torch.float64)
    net.input_weights = torch.tensor(A, dtype=dtype)  # as their constructor: torch.randn (default dtype)
    with torch.no_grad():
        net.output_rule.copy_(torch.tensor(out_rule))
        if use_graph:
            net.rule.copy_(torch.tensor(rnn_rule))
    net.double()  # as train_local_rule does: the rule parameters become float64

    preds, picks = [], []
    orig = net.update_weights

    near_tie = []

    def recording(probs, label):
        p = probs[0].detach()
        preds.append(int(torch.argmax(p)))
        top = torch.topk(p, 2).indices
        U = net.output_weights.detach()
        if float(p[top[0]] - p[top[1]]) < 1e-6 and not torch.equal(U[top[0]], U[top[1]]):
            near_tie.append(len(preds) - 1)
        picks.append([[int(i) for i in torch.nonzero(r).flatten()] for r in net.activated_rounds])
        return orig(probs, label)

    net.update_weights = recording
    inputs = torch.tensor(X, dtype=torch.float64)
    labels = torch.tensor(y, dtype=torch.long)
    lossv = net(inputs, labels, 1, B)
    if near_tie:
        # Two output rows that differ (or differ at float32) but give the
        # same prediction score: the argmax would depend on rounding.
        return None
    W = net.graph_weights.detach().double().numpy().copy()
    U = net.output_weights.detach().double().numpy().copy()
    lossv.backward()
    out = {
        "name": "T=%d %s %s %s %s %s" % (T, "multiplicative" if multiplicative else "additive",
                                        "every-example" if every else "misclassified",
                                        "all-rows" if all_rows else "true+pred-rows", loss,
                                        "float64" if dtype == torch.float64 else "float32"),
        "T": T, "inputs": n, "labels": m, "nodes": V, "cap": k, "batch": B,
        "multiplicative": multiplicative, "every_example": every, "all_rows": all_rows, "loss": loss,
        "weights_dtype": "float64" if dtype == torch.float64 else "float32",
        "A": A.flatten().tolist(), "in_mask": in_mask.flatten().tolist(), "graph_mask": g_mask.flatten().tolist(),
        "x": X.flatten().tolist(), "y": y.tolist(),
        "output_rule": out_rule.tolist(),
        "preds": preds, "picks": picks,
        "W": W.flatten().tolist(), "U": U.flatten().tolist(),
        "loss_value": float(lossv.item()),
        "grad_output": net.output_rule.grad.double().flatten().tolist(),
    }
    if use_graph:
        out["rnn_rule"] = rnn_rule.tolist()
        out["grad_rnn"] = net.rule.grad.double().flatten().tolist()
    return out


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    repo = sys.argv[1]
    dst = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "brainnet_replay.json")
    LocalNet, Options, UpdateScheme = load_authors(repo)
    cases = []
    seed = 100
    for dtype in (torch.float64, torch.float32):
        for T in (1, 3):
            for multiplicative in (False, True):
                for every in (False, True):
                    for all_rows in (False, True):
                        losses = ["softmax-ce"]
                        if not multiplicative and not every and not all_rows:
                            losses.append("mse")
                        for loss in losses:
                            c = None
                            while c is None:  # a new draw when an argmax is a near tie
                                seed += 1
                                c = case(LocalNet, Options, UpdateScheme, T=T, multiplicative=multiplicative,
                                         every=every, all_rows=all_rows, loss=loss, dtype=dtype, seed=seed)
                            cases.append(c)
    torch.set_default_dtype(torch.float32)
    doc = {
        "generator": "plasticity/testdata/gen_brainnet.py",
        "source": "github.com/BrainNetwork/BrainNet (network.LocalNet), torch " + torch.__version__,
        "cases": cases,
    }
    with open(dst + ".tmp", "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    os.replace(dst + ".tmp", dst)
    print("wrote %d cases to %s" % (len(cases), dst))


if __name__ == "__main__":
    main()
