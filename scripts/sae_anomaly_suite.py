#!/usr/bin/env python3
"""Leave-one-class-out anomaly detection: `shrink sae` with its defaults against PCA, IsolationForest and
a dense MLP autoencoder, on every dataset scikit-learn ships without a download.

Protocol, per dataset, anomaly class c and seed s: the samples of the other classes are shuffled
(seeded by s and c); 70% train every detector; the other 30% (normal) and every sample of c
(anomalies) are scored; the ROC AUC of the scores is the figure. Breast cancer has one split
(malignant is the anomaly). Every detector sees the same split in the same run.

  shrink   `shrink sae train TRAIN.npy --out M` with no options, then `shrink sae score`
  pca      PCA on standardized data (statistics of the training part), as many components as explain
           90% of the training variance; score = squared reconstruction error
  iforest  IsolationForest(random_state=s); score = -score_samples
  mlp_ae   MLPRegressor(hidden_layer_sizes=(max(2, d // 2), max(1, d // 4), max(2, d // 2))) trained to
           reconstruct standardized data (early stopping, seeded); score = squared reconstruction error

usage: scripts/sae_anomaly_suite.py [--seeds 0,1,2] [--only digits,wine] [--markdown] [--json FILE]
                                    [--shrink PATH] [-- extra sae train flags]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
from sklearn import datasets
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.neural_network import MLPRegressor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS = ["pca", "iforest", "mlp_ae"]


def load(name):
    """(X, labels, anomaly classes) of a suite dataset."""
    if name == "digits":
        d = datasets.load_digits()
        return d.data, d.target, list(range(10))
    if name == "breast_cancer":
        d = datasets.load_breast_cancer()
        return d.data, d.target, [0]  # target 0 is malignant
    if name == "wine":
        d = datasets.load_wine()
        return d.data, d.target, [0, 1, 2]
    if name == "iris":
        d = datasets.load_iris()
        return d.data, d.target, [0, 1, 2]
    if name.startswith("classification_"):
        features = int(name.split("_")[1])
        x, y = datasets.make_classification(n_samples=1500, n_features=features, n_informative=10,
                                            n_redundant=10, n_classes=3, n_clusters_per_class=2,
                                            random_state=features)
        return x, y, [0, 1, 2]
    raise SystemExit(f"unknown dataset {name}")


DATASETS = ["digits", "breast_cancer", "wine", "iris", "classification_50", "classification_200"]


def split(labels, anomaly, seed, train_fraction=0.7):
    normal = np.flatnonzero(labels != anomaly)
    perm = np.random.default_rng([seed, anomaly, 7]).permutation(normal)
    cut = int(train_fraction * len(perm))
    train, held = perm[:cut], perm[cut:]
    anomalies = np.flatnonzero(labels == anomaly)
    test = np.concatenate([held, anomalies])
    truth = np.concatenate([np.zeros(len(held)), np.ones(len(anomalies))])
    return train, test, truth


def standardize(train, test):
    mu, sd = train.mean(0), train.std(0)
    sd = np.where(sd > 0, sd, 1)
    return (train - mu) / sd, (test - mu) / sd


def score_pca(train, test, seed):
    a, b = standardize(train, test)
    pca = PCA(0.9, svd_solver="full", random_state=seed).fit(a)
    return ((pca.inverse_transform(pca.transform(b)) - b) ** 2).sum(1)


def score_iforest(train, test, seed):
    return -IsolationForest(random_state=seed).fit(train).score_samples(test)


def score_mlp(train, test, seed):
    a, b = standardize(train, test)
    d = a.shape[1]
    mlp = MLPRegressor(hidden_layer_sizes=(max(2, d // 2), max(1, d // 4), max(2, d // 2)), max_iter=500,
                       early_stopping=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp.fit(a, a)
    return ((mlp.predict(b) - b) ** 2).sum(1)


def score_shrink(train, test, seed, shrink, flags, tmp):
    train_file, test_file = os.path.join(tmp, "train.npy"), os.path.join(tmp, "test.npy")
    model, scores = os.path.join(tmp, "model.sae"), os.path.join(tmp, "scores.npy")
    np.save(train_file, train)
    np.save(test_file, test)
    t0 = time.perf_counter()
    out = subprocess.run([shrink, "sae", "train", train_file, "--out", model, "--seed", str(seed), "--json"] + flags,
                         check=True, capture_output=True, text=True)
    train_s = time.perf_counter() - t0
    subprocess.run([shrink, "sae", "score", "--model", model, test_file, "--out", scores], check=True,
                   capture_output=True)
    return np.load(scores).ravel(), train_s, json.loads(out.stdout).get("settings")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--shrink", default=os.path.join(ROOT, "build", "default", "tools", "shrink"))
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--only", default="", help="comma-separated datasets")
    p.add_argument("--skip-peers", action="store_true")
    p.add_argument("--json", help="write every split's figures here")
    p.add_argument("--markdown", action="store_true", help="print the PERF.md table")
    p.add_argument("flags", nargs="*", help="sae train flags (after --); none: the defaults")
    a = p.parse_args()
    seeds = [int(s) for s in a.seeds.split(",")]
    names = a.only.split(",") if a.only else DATASETS
    methods = ["shrink"] + ([] if a.skip_peers else PEERS)
    rows, settings = [], {}
    t_start = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            x, labels, anomalies = load(name)
            for seed in seeds:
                for c in anomalies:
                    train, test, truth = split(labels, c, seed)
                    row = {"dataset": name, "seed": seed, "anomaly": int(c)}
                    s, row["shrink_train_s"], settings[name] = score_shrink(x[train], x[test], seed, a.shrink,
                                                                            a.flags, tmp)
                    row["shrink"] = roc_auc_score(truth, s)
                    if not a.skip_peers:
                        row["pca"] = roc_auc_score(truth, score_pca(x[train], x[test], seed))
                        row["iforest"] = roc_auc_score(truth, score_iforest(x[train], x[test], seed))
                        row["mlp_ae"] = roc_auc_score(truth, score_mlp(x[train], x[test], seed))
                    rows.append(row)
                    print(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()),
                          file=sys.stderr, flush=True)
    # Per dataset: the mean over seeds of the mean over anomaly classes, and the worst single split.
    summary = {}
    for name in names:
        mine = [r for r in rows if r["dataset"] == name]
        summary[name] = {}
        for m in methods:
            per_seed = [np.mean([r[m] for r in mine if r["seed"] == s]) for s in seeds]
            summary[name][m] = {"mean": float(np.mean(per_seed)), "worst": float(min(r[m] for r in mine))}
        summary[name]["shrink_train_s_max"] = max(r["shrink_train_s"] for r in mine)
    result = {"seeds": seeds, "flags": a.flags, "summary": summary, "splits": rows, "settings": settings,
              "time_s": time.time() - t_start}
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=1)
    if a.markdown:
        print("| dataset | " + " | ".join(f"{m} mean | {m} worst" for m in methods) + " | best peer | shrink - best |"
              " shrink train s (max) |")
        print("|---" * (2 * len(methods) + 4) + "|")
        for name in names:
            s = summary[name]
            best = max((s[m]["mean"] for m in PEERS if m in s), default=float("nan"))
            cells = " | ".join(f"{s[m]['mean']:.3f} | {s[m]['worst']:.3f}" for m in methods)
            print(f"| {name} | {cells} | {best:.3f} | {s['shrink']['mean'] - best:+.3f} | "
                  f"{s['shrink_train_s_max']:.1f} |")
    else:
        for name in names:
            s = summary[name]
            print(f"{name:20s} " + "  ".join(f"{m} {s[m]['mean']:.3f} (worst {s[m]['worst']:.3f})" for m in methods))
    print(f"({result['time_s']:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
