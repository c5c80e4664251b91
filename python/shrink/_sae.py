"""SparseAutoencoder: the library's sparse autoencoder with its data-chosen defaults (float32)."""
import os
import tempfile

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _core


class SparseAutoencoder(TransformerMixin, BaseEstimator):
    """A sparse autoencoder trained as `shrink sae train` trains it. Every parameter left at None is
    chosen from the data by the library (TopK, 2 latents per input, k = inputs / 5, AuxK, unit-norm
    decoder, min-max normalization stored in the model, a step budget with early stopping on 10%
    held out, Adam with a cosine schedule); `settings_` reports what was chosen.

    transform gives the sparse codes (scipy.sparse CSR); inverse_transform reconstructs samples
    from codes on the data's scale; anomaly_score is `shrink sae score` (by default the mean distance
    to the 5 nearest training rows on the normalized scale; score_by="reconstruction" makes it the
    reconstruction error); score_samples is minus it (higher is more normal, as scikit-learn's
    outlier detectors), decision_function the same; reconstruction_error is the error itself.
    save / load use the CLI's checkpoint format."""

    def __init__(self, *, activation=None, latents=None, k=None, aux_k=None, normalize=None, steps=None,
                 epochs=None, batch_size=None, learning_rate=None, validation_fraction=None, patience=None,
                 noise=None, mask=None, score_by=None, neighbors=None, random_state=0):
        self.activation = activation
        self.latents = latents
        self.k = k
        self.aux_k = aux_k
        self.normalize = normalize
        self.steps = steps
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.noise = noise
        self.mask = mask
        self.score_by = score_by
        self.neighbors = neighbors
        self.random_state = random_state

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float32, order="C")
        options = {key: getattr(self, key) for key in ("activation", "latents", "k", "aux_k", "normalize", "steps",
                                                       "epochs", "batch_size", "learning_rate",
                                                       "validation_fraction", "patience", "noise", "mask", "neighbors")}
        options["score"] = self.score_by
        options["seed"] = int(self.random_state or 0)
        self.model_, self.settings_ = _core.Sae.fit(X, options)
        self.n_latents_ = self.model_.latents
        codes = self.model_.encode(X)
        self.sparsity_ratio_ = float(np.mean(codes == 0))  # of the training data's codes
        self.histogram_ = _core.magnitude_histogram(np.ravel(codes).astype(np.float64), 10)  # their activations
        return self

    def _check(self, X):
        check_is_fitted(self)
        return validate_data(self, X, dtype=np.float32, order="C", reset=False)

    def transform(self, X):
        X = self._check(X)
        return sp.csr_matrix(self.model_.encode(X))

    def inverse_transform(self, codes):
        check_is_fitted(self)
        d = self.model_.decoder()
        w = d["weight"].reshape(self.model_.inputs, self.model_.latents)
        h = codes.toarray() if sp.issparse(codes) else np.asarray(codes, dtype=np.float32)
        x = h @ w.T + d["bias"]
        if d["scale"].size:
            x = x * d["scale"] + d["offset"]
        return x

    def reconstruction_error(self, X):
        X = self._check(X)
        return self.model_.errors(X)

    def anomaly_score(self, X):
        X = self._check(X)
        return self.model_.scores(X)

    def score_samples(self, X):
        return -self.anomaly_score(X)

    def decision_function(self, X):
        return self.score_samples(X)

    def save(self, path):
        check_is_fitted(self)
        self.model_.save(str(path))

    # Pickling goes through the checkpoint's bytes.
    def __getstate__(self):
        state = self.__dict__.copy()
        if "model_" in state:
            with tempfile.TemporaryDirectory() as tmp:
                self.model_.save(os.path.join(tmp, "m.sae"))
                with open(os.path.join(tmp, "m.sae"), "rb") as f:
                    state["model_"] = f.read()
        return state

    def __setstate__(self, state):
        if isinstance(state.get("model_"), bytes):
            with tempfile.TemporaryDirectory() as tmp:
                with open(os.path.join(tmp, "m.sae"), "wb") as f:
                    f.write(state["model_"])
                state["model_"] = _core.Sae.load(os.path.join(tmp, "m.sae"))
        self.__dict__.update(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]  # the model computes in float32
        return tags

    @classmethod
    def load(cls, path):
        est = cls()
        est.model_ = _core.Sae.load(str(path))
        est.settings_ = {}
        est.n_latents_ = est.model_.latents
        est.n_features_in_ = est.model_.inputs
        est.sparsity_ratio_ = float("nan")  # unknown without the training data
        est.histogram_ = None
        return est
