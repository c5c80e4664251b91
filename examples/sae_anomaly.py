#!/usr/bin/env python3
"""Anomaly scores from a sparse autoencoder with shrink's defaults, drawn: digits 0-8 are normal, a
held-out part of them and every 9 are scored, and the histograms of the two show the separation.

    python3 examples/sae_anomaly.py [OUT.png]       (needs: pip install . matplotlib)
"""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

import shrink  # noqa: E402

X, labels = load_digits(return_X_y=True)
normal = np.random.default_rng(0).permutation(np.flatnonzero(labels != 9))
train, held = normal[: int(0.7 * len(normal))], normal[int(0.7 * len(normal)):]
sae = shrink.SparseAutoencoder().fit(X[train])
normal_err = sae.anomaly_score(X[held])
anomaly_err = sae.anomaly_score(X[labels == 9])
auc = roc_auc_score(np.r_[np.zeros(len(held)), np.ones(len(anomaly_err))], np.r_[normal_err, anomaly_err])
print(f"settings: {sae.settings_['activation']}, {sae.settings_['latents']} latents, k = {sae.settings_['k']}; "
      f"ROC AUC {auc:.3f}")

bins = np.linspace(0, np.quantile(np.r_[normal_err, anomaly_err], 0.99), 40)
plt.figure(figsize=(6.5, 4))
plt.hist(normal_err, bins, alpha=0.6, density=True, label=f"held-out digits 0-8 ({len(held)})")
plt.hist(anomaly_err, bins, alpha=0.6, density=True, label=f"digit 9, never seen ({len(anomaly_err)})")
plt.xlabel("anomaly score (mean distance to the 5 nearest training digits)")
plt.ylabel("density")
plt.title(f"SparseAutoencoder with its defaults: ROC AUC {auc:.3f}")
plt.legend()
plt.tight_layout()
plt.savefig(sys.argv[1] if len(sys.argv) > 1 else "sae_anomaly.png", dpi=110)
