#!/usr/bin/env python3
"""Two checks of what the default sparse autoencoder learns, on scikit-learn's digits (docs/PERF.md).

features   Self-taught learning: on a seeded, stratified 5-fold split, an SAE with the defaults is trained
           on each training fold; its codes (`shrink sae encode`) feed LogisticRegression, against the
           same classifier on the raw pixels (both standardized on the training fold). Target: the codes
           classify at least as well as the pixels.
denoising  An SAE trained with --noise SIGMA (Gaussian noise on its normalized inputs) against one
           trained without, both otherwise with the defaults, on 70% of digits. The other 30% are
           corrupted with the same noise (per feature, SIGMA times the model's normalization scale) and
           reconstructed; the figure is the mean squared error against the clean samples, in pixels.

usage: scripts/sae_feature_checks.py [--seed 0] [--sigma 0.5] [--json FILE] [--shrink PATH]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import scipy.sparse
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sh(shrink, *args):
    return subprocess.run([shrink, *args], check=True, capture_output=True, text=True).stdout


def classify(train_x, train_y, test_x, test_y):
    scaler = StandardScaler().fit(train_x)
    clf = LogisticRegression(max_iter=5000).fit(scaler.transform(train_x), train_y)
    return float((clf.predict(scaler.transform(test_x)) == test_y).mean())


def features(shrink, x, y, seed, tmp, flags=()):
    rows = []
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    for fold, (tr, te) in enumerate(folds.split(x, y)):
        np.save(f"{tmp}/tr.npy", x[tr])
        np.save(f"{tmp}/te.npy", x[te])
        sh(shrink, "sae", "train", f"{tmp}/tr.npy", "--out", f"{tmp}/m.sae", "--seed", str(seed), *flags)
        codes = []
        for part in ("tr", "te"):
            sh(shrink, "sae", "encode", "--model", f"{tmp}/m.sae", f"{tmp}/{part}.npy", "--out", f"{tmp}/{part}.npz")
            codes.append(scipy.sparse.load_npz(f"{tmp}/{part}.npz").toarray())
        rows.append({"fold": fold, "pixels": classify(x[tr], y[tr], x[te], y[te]),
                     "codes": classify(codes[0], y[tr], codes[1], y[te])})
    return rows


def denoising(shrink, x, seed, sigma, tmp, flags=()):
    perm = np.random.default_rng(seed).permutation(len(x))
    cut = int(0.7 * len(x))
    train, test = x[perm[:cut]], x[perm[cut:]]
    np.save(f"{tmp}/train.npy", train)
    result = {"sigma": sigma}
    for name, extra in (("plain", []), ("denoising", ["--noise", str(sigma)])):
        sh(shrink, "sae", "train", f"{tmp}/train.npy", "--out", f"{tmp}/{name}.sae", "--seed", str(seed), *flags, *extra)
        sh(shrink, "sae", "export", "--model", f"{tmp}/{name}.sae", "--out-dir", f"{tmp}/{name}")
        scale = np.load(f"{tmp}/{name}/normalize_scale.npy").ravel()
        noisy = test + sigma * scale * np.random.default_rng([seed, 1]).standard_normal(test.shape)
        np.save(f"{tmp}/noisy.npy", noisy)
        sh(shrink, "sae", "reconstruct", "--model", f"{tmp}/{name}.sae", f"{tmp}/noisy.npy", "--out", f"{tmp}/r.npy")
        result[f"{name}_mse"] = float(((np.load(f"{tmp}/r.npy") - test) ** 2).mean())
    result["noisy_input_mse"] = float(((noisy - test) ** 2).mean())
    result["reduction"] = 1 - result["denoising_mse"] / result["plain_mse"]
    return result


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--shrink", default=os.path.join(ROOT, "build", "default", "tools", "shrink"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sigma", type=float, default=0.5)
    p.add_argument("--json")
    p.add_argument("--only", choices=["features", "denoising"])
    p.add_argument("flags", nargs="*", help="sae train flags (after --); none: the defaults")
    a = p.parse_args()
    d = load_digits()
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        rows = features(a.shrink, d.data, d.target, a.seed, tmp, a.flags) if a.only != "denoising" else []
        noise = denoising(a.shrink, d.data, a.seed, a.sigma, tmp, a.flags) if a.only != "features" else {}
    result = {"flags": a.flags, "features": {}, "denoising": noise, "time_s": time.time() - t0}
    if rows:
        result["features"] = {"folds": rows, "pixels": float(np.mean([r["pixels"] for r in rows])),
                              "codes": float(np.mean([r["codes"] for r in rows]))}
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=1)
    f = result["features"]
    if f:
        print(f"features: LogisticRegression accuracy, 5 folds: SAE codes {f['codes']:.4f}, raw pixels {f['pixels']:.4f}"
              f" (worst fold: codes {min(r['codes'] for r in rows):.4f}, pixels {min(r['pixels'] for r in rows):.4f})")
    if noise:
        print(f"denoising (sigma {noise['sigma']} of each feature's scale): reconstruction MSE of corrupted held-out"
              f" digits against the clean ones: trained with noise {noise['denoising_mse']:.3f}, without"
              f" {noise['plain_mse']:.3f} ({100 * noise['reduction']:.1f}% lower; the noisy input itself"
              f" {noise['noisy_input_mse']:.3f})")
    print(f"({result['time_s']:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
