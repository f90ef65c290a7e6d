"""Real datasets bundled with scikit-learn, as token sequences (the real-data chapter; nothing is downloaded).

A transformer of this kind sees a sequence as a *multiset* of tokens with proportions (no
positional encoding, ARCHITECTURE.md "Semantics"), so every token carries its own position:

* **digits** (1,797 images of 8 × 8 pixels, values 0..16): one token per image row,
  ``(row index, 8 pixels)`` in R^9, 8 tokens per sequence;
* **iris** (150 × 4), **wine** (178 × 13), **breast cancer** (569 × 30): one token per feature,
  ``(feature index, value)`` in R^2.

The class label becomes the one output token (m = 1): ``(label, 0, ..., 0)``, so exact
interpolation sends every token of a sequence to its label. Feature values are read as the
shortest decimal that rounds to scikit-learn's float64 (``floats="decimal"``), i.e. exactly the
decimal literal of the bundled CSV file. ``size`` draws a seeded subset of that many sequences
(sorted, so the order of the bundled file is kept).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn import datasets as sk_datasets

from ..core.dataset import Dataset

__all__ = ["RealData", "REAL", "load", "tokens_by_feature", "tokens_by_row", "iris_sepals"]


@dataclass(frozen=True)
class RealData:
    """One bundled dataset: its name, what a token is, and the loader of (features, labels)."""

    name: str
    token: str
    loader: Callable[[], tuple[np.ndarray, np.ndarray]]
    by_row: bool = False  # digits: tokens are image rows, not (feature, value) pairs


def _sklearn(name: str) -> Callable[[], tuple[np.ndarray, np.ndarray]]:
    def load() -> tuple[np.ndarray, np.ndarray]:
        bunch = getattr(sk_datasets, f"load_{name}")()
        data = bunch.images if name == "digits" else bunch.data
        return np.asarray(data, dtype=np.float64), np.asarray(bunch.target, dtype=np.int64)

    return load


#: The bundled datasets of the chapter, by name.
REAL: dict[str, RealData] = {
    r.name: r
    for r in (
        RealData("digits", "(row index, 8 pixels) in R^9", _sklearn("digits"), by_row=True),
        RealData("iris", "(feature index, value) in R^2", _sklearn("iris")),
        RealData("wine", "(feature index, value) in R^2", _sklearn("wine")),
        RealData("breast_cancer", "(feature index, value) in R^2", _sklearn("breast_cancer")),
    )
}


def _subset(n_total: int, size: int | None, seed: int) -> np.ndarray:
    if size is None or size >= n_total:
        return np.arange(n_total)
    return np.sort(np.random.default_rng(seed).choice(n_total, size=size, replace=False))


def _label_tokens(labels: np.ndarray, d: int) -> np.ndarray:
    """One output token per sequence: (label, 0, ..., 0) in R^d, shape (N, 1, d)."""
    out = np.zeros((len(labels), 1, d), dtype=np.int64)
    out[:, 0, 0] = labels
    return out


def tokens_by_feature(features: np.ndarray, labels: np.ndarray) -> Dataset:
    """Rows of a (N, F) feature table as sequences of F tokens (feature index, value), labels as outputs."""
    N, F = features.shape
    tokens = np.empty((N, F, 2), dtype=object)
    tokens[:, :, 0] = np.arange(F)[None, :]
    tokens[:, :, 1] = features
    return Dataset.from_arrays(tokens, _label_tokens(labels, 2), floats="decimal")


def tokens_by_row(images: np.ndarray, labels: np.ndarray, position: bool = True) -> Dataset:
    """Images (N, rows, cols) as sequences of row tokens: (row index, pixels), or the pixels alone."""
    N, rows, _ = images.shape
    if position:
        idx = np.broadcast_to(np.arange(rows)[None, :, None], (N, rows, 1))
        images = np.concatenate([idx.astype(np.float64), images], axis=2)
    return Dataset.from_arrays(images, _label_tokens(labels, images.shape[2]), floats="decimal")


def load(name: str, size: int | None = None, seed: int = 0) -> Dataset:
    """The bundled dataset ``name`` (see :data:`REAL`) as a Dataset; ``size`` sequences (seeded subset) if given."""
    if name not in REAL:
        raise ValueError(f"unknown dataset {name!r}: choose one of {', '.join(REAL)}")
    real = REAL[name]
    data, labels = real.loader()
    keep = _subset(len(labels), size, seed)
    if real.by_row:
        return tokens_by_row(data[keep], labels[keep])
    return tokens_by_feature(data[keep], labels[keep])


def iris_sepals() -> tuple[list, list]:
    """Iris with its two sepal measurements only, as one token (length, width) per flower: (inputs, outputs).

    Returned as plain lists (decimal strings), not validated: several flowers of different species
    share both measurements, and :class:`~exactinterp.core.dataset.Dataset` refuses them.
    """
    data, labels = REAL["iris"].loader()
    inputs = [[[repr(float(a)), repr(float(b))]] for a, b in data[:, :2]]
    outputs = [[[int(y), 0]] for y in labels]
    return inputs, outputs
