#!/usr/bin/env python3
"""Replay vectors for the NeuroPlastic optimizer, produced by the authors' own code.

Runs the authors' `NeuroPlasticOptimizer` (github.com/Sunnylincc/NeuroPlastic-Optimizer,
src/neuroplastic_optimizer) in float64 on fixed random gradients (with exact zeros, an
all-zero tensor, a tensor with ||g||^2 below eps, and steps large enough for the norm clip)
over several epochs, the way their trainer drives it (set_epoch(e) and reset_diagnostics()
before the steps of epoch e, collect_diagnostics() after them; set_total_epochs only where a
case says so: their runner never calls it, the project's --np-total-epochs=1), for every
option of the spec. It records the
initial parameters, the gradients of every step, the parameters after every step and the
diagnostics of every epoch, and writes neuroplastic_replay.json next to this script.
optimizer/replay_test.go replays every case through the project's optimizer.

Usage (Debian's python3-torch is enough; nothing of the authors' repository is copied):

    git clone https://github.com/Sunnylincc/NeuroPlastic-Optimizer /tmp/np-authors
    /usr/bin/python3 optimizer/testdata/gen_neuroplastic.py /tmp/np-authors
    # or: NEUROPLASTIC_REPO=/tmp/np-authors /usr/bin/python3 optimizer/testdata/gen_neuroplastic.py

An optional second argument names the output file.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import torch

# Model-ordered parameter list (N = 9): conv-like 4-D tensors first, the classifier last.
# Body = 7 tensors: early blocks 0-3, late blocks 3-6 (index 3 is in both; the controller
# counts it as early), classifier 7-8, conv = 0 and 2; target-RMS thirds 0-2, 3-5, 6-8.
SHAPES = [(4, 1, 3, 3), (4,), (6, 4, 1, 1), (6,), (5, 6), (5,), (5,), (3, 5), (3,)]
EPOCHS = 4
STEPS_PER_EPOCH = 3
SEED = 20261203

# The authors' option names and the project's flags. Values that differ in spelling are
# mapped in to_flags.
PLASTICITY_FLAGS = {
    "mode": "np-mode",
    "hybrid_base": "np-hybrid-base",
    "modulation_target": "np-modulation-target",
    "modulation_scope": "np-modulation-scope",
    "modulation_schedule": "np-modulation-schedule",
    "lr_controller_mode": "np-lr-controller",
    "layer_scope": "np-layer-scope",
    "phase_scope": "np-phase-scope",
    "modulation_strength": "np-modulation-strength",
    "modulation_max_ratio": "np-modulation-max-ratio",
    "controller_alpha": "np-controller-alpha",
    "controller_low": "np-controller-min",
    "controller_high": "np-controller-max",
    "base_momentum": "np-base-momentum",
    "base_beta2": "np-base-beta2",
    "activity_weight": "np-weight-activity",
    "gradient_weight": "np-weight-grad",
    "memory_weight": "np-weight-memory",
    "plasticity_scale": "np-plasticity-scale",
    "warmup_epochs": "np-warmup-epochs",
    "residual_max_ratio": "np-residual-max-ratio",
    "orthogonal_lambda": "np-orthogonal-lambda",
    "orthogonal_max_ratio": "np-orthogonal-max-ratio",
    "orthogonal_normalization": "np-orthogonal-norm",
    "orthogonal_schedule": "np-orthogonal-schedule",
    "min_alpha": "np-min-alpha",
    "max_alpha": "np-max-alpha",
    "parameterwise": "np-param-wise",
}
# The diagnostics recorded (collect_diagnostics() keys the project reports; the per-group
# controller and modulation statistics and the alpha median are left out).
DIAG_KEYS = [
    "raw_gradient_norm", "parameter_norm", "raw_update_norm", "effective_update_norm",
    "plasticity_delta_norm", "weight_decay_term_norm", "effective_to_gradient_norm_ratio",
    "stabilization_norm_ratio", "alpha_mean", "alpha_std", "alpha_min", "alpha_max",
    "alpha_fraction_near_min", "alpha_fraction_near_max", "controller_signal_mean",
    "controller_signal_min", "controller_signal_max", "controller_multiplier_mean",
    "controller_multiplier_min", "controller_multiplier_max", "controller_clamp_fraction_low",
    "controller_clamp_fraction_high", "orthogonal_signal_norm", "orthogonal_residual_norm",
    "cosine_similarity_grad_plasticity", "cosine_similarity_grad_orthogonal",
    "orthogonal_skip_fraction",
]
HOMEOSTATIC_FLAGS = {
    "max_update_norm": "np-max-update-norm",
    "target_rms": "np-target-rms",
    "adaptation_rate": "np-adaptation-rate",
    "early_target_rms_scale": "np-target-rms-early",
    "middle_target_rms_scale": "np-target-rms-middle",
    "late_target_rms_scale": "np-target-rms-late",
}


def case(name, lr=0.1, wd=0.0, decoupled=False, total=None, homeo=None, **plast):
    return {
        "name": name,
        "lr": lr,
        "weight_decay": wd,
        "decoupled_weight_decay": decoupled,
        "total_epochs": total,
        "plasticity": plast,
        "homeostatic": homeo or {},
    }


def cases():
    hy = []
    for base in ("adamw", "sgd_momentum"):
        for target in ("gain", "momentum", "trust"):
            hy.append(case(f"{base}_{target}", hybrid_base=base, modulation_target=target,
                           modulation_strength=1.5))
    return [
        case("default"),
        case("grad_only", mode="ablation_grad_only"),
        case("scalar", parameterwise=False),
        case("grad_only_scalar", mode="ablation_grad_only", parameterwise=False),
        case("mnist_best", warmup_epochs=2, plasticity_scale=2.0),
        case("warmup3_scale_half", warmup_epochs=3, plasticity_scale=0.5, lr=0.3),
        case("scalar_scale2", parameterwise=False, plasticity_scale=2.0, warmup_epochs=1),
        case("weights_clamp", activity_weight=0.45, gradient_weight=0.35, memory_weight=0.2,
             min_alpha=0.5, max_alpha=1.3),
        case("cifar_preset", lr=1e-2, wd=5e-4, activity_weight=0.45, gradient_weight=0.35,
             memory_weight=0.2, max_alpha=1.8,
             homeo={"max_update_norm": 1.5, "target_rms": 0.015}),
        case("stabilization", homeo={"max_update_norm": 0.05, "adaptation_rate": 30.0,
                                     "early_target_rms_scale": 0.5,
                                     "middle_target_rms_scale": 2.0,
                                     "late_target_rms_scale": 40.0}),
        case("rms_scales", homeo={"adaptation_rate": 5.0, "early_target_rms_scale": 0.25,
                                  "middle_target_rms_scale": 1.5,
                                  "late_target_rms_scale": 3.0}),
        case("coupled_wd", wd=0.05),
        case("decoupled_wd", wd=0.05, decoupled=True),
        case("grad_only_decoupled_wd", wd=0.05, decoupled=True, mode="ablation_grad_only"),
        case("ctrl_global", lr_controller_mode="global", controller_alpha=0.5, plasticity_scale=2.0),
        case("ctrl_per_group", lr_controller_mode="per_group", controller_alpha=0.5,
             plasticity_scale=2.0),
        case("ctrl_classifier_only", lr_controller_mode="classifier_only", controller_alpha=0.5,
             plasticity_scale=2.0),
        case("ctrl_grad_only", lr_controller_mode="global", mode="ablation_grad_only"),
        case("ctrl_tight_wd", lr_controller_mode="per_group", controller_alpha=2.0,
             controller_low=0.95, controller_high=1.05, plasticity_scale=2.0, wd=0.01),
        *hy,
        case("adamw_gain_wd", hybrid_base="adamw", wd=0.05, lr=0.05),
        case("adamw_momentum_tight", hybrid_base="adamw", modulation_target="momentum",
             modulation_strength=3.0, modulation_max_ratio=0.05, base_momentum=0.8,
             base_beta2=0.99),
        case("sgdm_gain_wd", hybrid_base="sgd_momentum", wd=0.02, base_momentum=0.7),
        case("sgdm_momentum_decoupled_wd", hybrid_base="sgd_momentum",
             modulation_target="momentum", wd=0.02, decoupled=True, modulation_strength=0.5),
        case("sgdm_trust_conv_only", hybrid_base="sgd_momentum", modulation_target="trust",
             layer_scope="conv_only", modulation_strength=2.0),
        case("adamw_classifier_only", hybrid_base="adamw", layer_scope="classifier_only",
             modulation_strength=1.0),
        case("sgdm_head_only_alias", hybrid_base="sgd_momentum", layer_scope="head_only",
             modulation_strength=1.0),
        case("adamw_early_blocks", hybrid_base="adamw", layer_scope="early_blocks",
             modulation_strength=1.0),
        case("adamw_late_blocks", hybrid_base="adamw", layer_scope="late_blocks",
             modulation_strength=1.0, lr_controller_mode="per_group"),
        case("sgdm_late_alias", hybrid_base="sgd_momentum", layer_scope="late",
             modulation_strength=1.0),
        case("adamw_modulation_scope_alias", hybrid_base="adamw", modulation_scope="conv_only",
             modulation_strength=1.0),
        case("adamw_phase_early_total4", hybrid_base="adamw", phase_scope="early", total=4,
             modulation_strength=1.0),
        case("adamw_phase_middle_total4", hybrid_base="adamw", phase_scope="middle", total=4,
             modulation_strength=1.0),
        case("sgdm_phase_late_total4", hybrid_base="sgd_momentum", phase_scope="late", total=4,
             modulation_strength=1.0),
        case("adamw_phase_early_trainer", hybrid_base="adamw", phase_scope="early",
             modulation_strength=1.0),
        case("sgdm_phase_late_trainer", hybrid_base="sgd_momentum", phase_scope="late",
             modulation_strength=1.0),
        case("adamw_schedule_warmup_total4", hybrid_base="adamw", modulation_schedule="warmup",
             total=4, modulation_strength=1.0),
        case("sgdm_schedule_late_total4", hybrid_base="sgd_momentum", modulation_schedule="late",
             total=4, modulation_strength=1.0),
        case("bounded", bounded_residual=True, plasticity_scale=2.0),
        case("bounded_tight_wd", bounded_residual=True, residual_max_ratio=0.05, wd=0.02),
        case("orthogonal", orthogonal_residual=True, orthogonal_lambda=0.7, plasticity_scale=2.0),
        case("orthogonal_match", orthogonal_residual=True, orthogonal_normalization="match_grad_norm",
             orthogonal_max_ratio=0.05),
        case("orthogonal_match_loose", orthogonal_residual=True,
             orthogonal_normalization="match_grad_norm", orthogonal_lambda=0.3,
             orthogonal_max_ratio=5.0, plasticity_scale=2.0),
        case("orthogonal_late_total4", orthogonal_residual=True,
             orthogonal_normalization="match_grad_norm", orthogonal_schedule="late", total=4),
        case("orthogonal_cosine_total4_wd", orthogonal_residual=True, orthogonal_schedule="cosine",
             orthogonal_lambda=2.0, total=4, wd=0.01),
        case("orthogonal_cosine_total3", orthogonal_residual=True, orthogonal_schedule="cosine",
             orthogonal_normalization="match_grad_norm", orthogonal_lambda=1.0,
             orthogonal_max_ratio=5.0, total=3),
        case("orthogonal_late_trainer", orthogonal_residual=True, orthogonal_schedule="late",
             orthogonal_lambda=1.0, orthogonal_max_ratio=5.0, decoupled=True, wd=0.01),
        case("orthogonal_ctrl_global", orthogonal_residual=True, lr_controller_mode="global",
             controller_alpha=1.0, plasticity_scale=2.0),
    ]


def to_flags(c):
    """The project's command-line flags for one case (the Go test parses them)."""
    flags = [f"--lr={c['lr']!r}"]
    if c["weight_decay"]:
        flags.append(f"--weight-decay={c['weight_decay']!r}")
    if c["decoupled_weight_decay"]:
        flags.append("--np-decoupled-wd")
    p = dict(c["plasticity"])
    if p.pop("orthogonal_residual", False):
        flags.append("--np-residual=orthogonal")
    elif p.pop("bounded_residual", False):
        flags.append("--np-residual=bounded")
    p.pop("bounded_residual", None)
    for key, value in p.items():
        flag = PLASTICITY_FLAGS[key]
        if key == "orthogonal_normalization" and value == "raw":
            value = "none"
        if isinstance(value, bool):
            flags.append(f"--{flag}={'true' if value else 'false'}")
        elif isinstance(value, float):
            flags.append(f"--{flag}={value!r}")
        else:
            flags.append(f"--{flag}={value}")
    for key, value in c["homeostatic"].items():
        flags.append(f"--{HOMEOSTATIC_FLAGS[key]}={value!r}")
    if c["total_epochs"] is None:
        # Their runner never calls set_total_epochs (total stays 1); the project's trainer
        # always calls SetTotalEpochs, which this flag overrides.
        flags.append("--np-total-epochs=1")
    return flags


def make_data(gen):
    """Initial parameters and the gradients of every step (float64)."""
    init = [torch.randn(s, generator=gen) * 0.1 for s in SHAPES]
    steps = EPOCHS * STEPS_PER_EPOCH
    grads = []
    for k in range(steps):
        gs = []
        for i, s in enumerate(SHAPES):
            scale = 10.0 ** (((i + k) % 4) - 2.5)  # 0.003 .. 3: some steps hit the norm clip
            g = torch.randn(s, generator=gen) * scale
            g[torch.rand(s, generator=gen) < 0.15] = 0.0  # exact zeros
            gs.append(g)
        grads.append(gs)
    grads[0][1].zero_()  # a whole tensor without gradient on the first step
    grads[4][5].zero_()
    grads[7][3] = torch.randn(SHAPES[3], generator=gen) * 1e-5  # ||g||^2 <= eps: orthogonal skip
    grads[2][8].zero_()
    return init, grads


def run_case(NeuroPlasticOptimizer, PlasticityConfig, PlasticityMode, HomeostaticConfig,
             c, init, grads):
    params = [torch.nn.Parameter(p.clone()) for p in init]
    pkw = dict(c["plasticity"])
    if "mode" in pkw:
        pkw["mode"] = PlasticityMode(pkw["mode"])
    opt = NeuroPlasticOptimizer(
        params,
        lr=c["lr"],
        weight_decay=c["weight_decay"],
        plasticity_config=PlasticityConfig(**pkw),
        homeostatic_config=HomeostaticConfig(**c["homeostatic"]),
        decoupled_weight_decay=c["decoupled_weight_decay"],
    )
    if c["total_epochs"] is not None:
        opt.set_total_epochs(c["total_epochs"])
    after, diags = [], []
    k = 0
    for epoch in range(1, EPOCHS + 1):
        opt.set_epoch(epoch)
        opt.reset_diagnostics()
        for _ in range(STEPS_PER_EPOCH):
            for p, g in zip(params, grads[k]):
                p.grad = g.clone()
            opt.step()
            after.append([p.detach().reshape(-1).tolist() for p in params])
            k += 1
        full = opt.collect_diagnostics()
        diags.append({key: full[key] for key in DIAG_KEYS})
    for step in after:
        for t in step:
            assert all(math.isfinite(x) for x in t), c["name"]
    return after, diags


def main():
    repo = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("NEUROPLASTIC_REPO")
    if not repo:
        sys.exit("usage: gen_neuroplastic.py AUTHORS_REPO [OUT.json] (or set NEUROPLASTIC_REPO)")
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "neuroplastic_replay.json")
    src = os.path.join(repo, "src")
    if not os.path.isdir(os.path.join(src, "neuroplastic_optimizer")):
        sys.exit(f"{repo}: no src/neuroplastic_optimizer (want a checkout of Sunnylincc/NeuroPlastic-Optimizer)")
    sys.path.insert(0, src)
    from neuroplastic_optimizer.optimizer import NeuroPlasticOptimizer
    from neuroplastic_optimizer.plasticity import PlasticityConfig, PlasticityMode
    from neuroplastic_optimizer.stabilization import HomeostaticConfig

    try:
        commit = subprocess.run(["git", "-C", repo, "rev-parse", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"

    torch.set_default_dtype(torch.float64)  # their state tensors follow the parameters' dtype
    gen = torch.Generator().manual_seed(SEED)
    init, grads = make_data(gen)
    doc = {
        "generator": "optimizer/testdata/gen_neuroplastic.py",
        "authors_repo": "https://github.com/Sunnylincc/NeuroPlastic-Optimizer",
        "authors_commit": commit,
        "torch": torch.__version__,
        "shapes": [list(s) for s in SHAPES],
        "epochs": EPOCHS,
        "steps_per_epoch": STEPS_PER_EPOCH,
        "init": [p.reshape(-1).tolist() for p in init],
        "grads": [[g.reshape(-1).tolist() for g in step] for step in grads],
        "cases": [],
    }
    names = set()
    for c in cases():
        assert c["name"] not in names, c["name"]
        names.add(c["name"])
        after, diags = run_case(NeuroPlasticOptimizer, PlasticityConfig, PlasticityMode,
                                HomeostaticConfig, c, init, grads)
        doc["cases"].append({
            "name": c["name"],
            "authors": {k: c[k] for k in ("lr", "weight_decay", "decoupled_weight_decay",
                                          "total_epochs", "plasticity", "homeostatic")},
            "flags": to_flags(c),
            "params": after,
            "diagnostics": diags,
        })
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, separators=(",", ":"))
        fh.write("\n")
    os.replace(tmp, out)
    print(f"wrote {out}: {len(doc['cases'])} cases, {os.path.getsize(out)} bytes")


if __name__ == "__main__":
    main()
