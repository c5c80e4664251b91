#!/usr/bin/env python3
"""A Lasso path and its cross-validation with shrink, drawn: the coefficient paths against log(alpha)
with alpha_min and alpha_1se marked, and the CV error with its standard-error bars.

    python3 examples/lasso_path.py [OUT.png]        (needs: pip install . matplotlib)
"""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_diabetes  # noqa: E402

import shrink  # noqa: E402

X, y = load_diabetes(return_X_y=True)
X = (X - X.mean(0)) / X.std(0)
names = load_diabetes().feature_names
cv = shrink.LassoCV(cv=10, tol=1e-8).fit(X, y)
alphas, coefs, gaps = shrink.lasso_path(X - X.mean(0), y - y.mean(), alphas=cv.alphas_, tol=1e-8)
mean, se = cv.mse_path_.mean(1), cv.mse_path_.std(1, ddof=1) / np.sqrt(cv.mse_path_.shape[1])
print(f"alpha_min {cv.alpha_:.4g} ({np.count_nonzero(cv.coef_)} features), alpha_1se {cv.alpha_1se_:.4g}; "
      f"largest certified gap on the path {gaps.max():.2e}")

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
for j, name in enumerate(names):
    left.plot(np.log10(alphas), coefs[j], label=name)
right.errorbar(np.log10(alphas), mean, yerr=se, fmt=".", color="tab:red", ecolor="0.7", ms=4)
for ax in (left, right):
    ax.axvline(np.log10(cv.alpha_), ls="--", color="k", lw=0.8)
    ax.axvline(np.log10(cv.alpha_1se_), ls=":", color="k", lw=0.8)
    ax.set_xlabel("log10(alpha)")
    ax.invert_xaxis()
left.set_ylabel("coefficient")
left.set_title("Lasso path (diabetes, standardized)")
left.legend(fontsize=7, ncol=2)
right.set_ylabel("10-fold CV mean squared error")
right.set_title("alpha_min (dashed) and alpha_1se (dotted)")
fig.tight_layout()
fig.savefig(sys.argv[1] if len(sys.argv) > 1 else "lasso_path.png", dpi=110)
