"""shrink.SparseAutoencoder: the library's defaults from Python, the codes, the scores against the
CLI's `sae score` on the same checkpoint, the checkpoint round trip, and bad input."""
import os
import shutil
import subprocess

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits
from sklearn.utils.estimator_checks import parametrize_with_checks

import shrink

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def cli():
    path = os.environ.get("SHRINK_CLI", os.path.join(ROOT, "build", "default", "tools", "shrink"))
    return path if os.path.exists(path) else shutil.which("shrink")


@pytest.fixture(scope="module")
def digits_model():
    X = load_digits().data[:600]
    return X, shrink.SparseAutoencoder(random_state=3).fit(X)


def test_defaults_are_chosen_and_reported(digits_model):
    X, m = digits_model
    s = m.settings_
    assert (s["activation"], s["latents"], s["k"], s["normalize"]) == ("topk", 128, 13, "minmax")
    assert s["validation_fraction"] == 0.1 and s["patience"] == 10 and s["steps"] >= 1
    assert s["fvu"] < 0.3 and s["dead_fraction"] < 0.5
    codes = m.transform(X)
    assert sp.issparse(codes) and codes.shape == (600, 128)
    assert np.all(np.diff(codes.indptr) <= 13)
    assert 0.8 < m.sparsity_ratio_ < 1  # 13 of 128 active
    back = m.inverse_transform(codes)
    assert back.shape == X.shape and np.mean((back - X) ** 2) < np.var(X)  # better than the mean


def test_scores_equal_the_command_line_on_the_same_checkpoint(digits_model, tmp_path):
    X, m = digits_model
    m.save(tmp_path / "m.sae")
    loaded = shrink.SparseAutoencoder.load(tmp_path / "m.sae")
    np.testing.assert_array_equal(loaded.reconstruction_error(X[:50]), m.reconstruction_error(X[:50]))
    np.testing.assert_array_equal(loaded.anomaly_score(X[:50]), m.anomaly_score(X[:50]))
    np.testing.assert_array_equal(m.score_samples(X[:50]), -m.anomaly_score(X[:50]))
    assert m.settings_["score"] == "neighbors" and m.settings_["neighbors"] == 5
    # the default score is the mean distance to the 5 nearest training rows (min-max normalized)
    lo, hi = X.min(0), X.max(0)
    scale = np.where(hi > lo, hi - lo, 1)
    a, b = (X - lo) / scale, (X[:5] - lo) / scale
    dist = np.sort(np.sqrt(((b[:, None, :] - a[None, :, :]) ** 2).sum(-1)), axis=1)[:, :5].mean(1)
    np.testing.assert_allclose(m.anomaly_score(X[:5]), dist, rtol=1e-4)
    program = cli()
    if program is None:
        pytest.skip("the shrink program is not built (set SHRINK_CLI)")
    np.save(tmp_path / "x.npy", X[:50])
    subprocess.run([program, "sae", "score", "--model", str(tmp_path / "m.sae"), str(tmp_path / "x.npy"), "--out",
                    str(tmp_path / "s.npy")], check=True, capture_output=True)
    np.testing.assert_array_equal(np.load(tmp_path / "s.npy").ravel(), m.anomaly_score(X[:50]))


def test_choices_are_kept_and_bad_input_refused(digits_model):
    X, m = digits_model
    small = shrink.SparseAutoencoder(latents=32, k=4, steps=50, normalize="standard").fit(X)
    assert (small.settings_["latents"], small.settings_["k"], small.settings_["normalize"]) == (32, 4, "standard")
    assert small.settings_["validation_fraction"] == 0  # a fixed length turns early stopping off
    with pytest.raises(ValueError):
        m.transform(X[:, :10])
    bad = X[:5].copy()
    bad[2, 3] = np.nan
    with pytest.raises(ValueError):
        m.score_samples(bad)
    with pytest.raises(ValueError):
        shrink.SparseAutoencoder(latents=8, k=9).fit(X)


@parametrize_with_checks([shrink.SparseAutoencoder(steps=30)])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)
