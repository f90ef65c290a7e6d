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

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn import datasets as sk_datasets

from ..construct import construct
from ..construct.primitives import bump_neurons, ff_from_neurons
from ..core.dataset import Dataset
from ..core.numbers import QQ, exact_dot, to_float_array
from ..verify import verify
from ..verify.floats import certified_float_bound, data_scale
from ..verify.margins import hardmax_margins
from .text import html_table

__all__ = [
    "RealData",
    "REAL",
    "REGIMES",
    "load",
    "tokens_by_feature",
    "tokens_by_row",
    "iris_sepals",
    "real_row",
    "table_html",
    "firing_side_errors",
    "value_stats",
]


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


# ----------------------------------------------------------------------------- the chapter's table

#: The three regimes of the chapter: (attention, max_width).
REGIMES = {"narrow": ("hardmax", 4), "wide": ("hardmax", None), "softmax": ("softmax", 4)}


def real_row(name: str, ds: Dataset, regime: str) -> dict:
    """Build and check one model through the public API; one row of the chapter's table.

    Times are wall-clock seconds (machine dependent). ``float_rel`` and ``bound_rel`` are the
    measured float64 deviation and its certified bound, relative to the data's scale; ``margin``
    is the smallest exact hardmax margin of the model's deciding layers (None for softmax models).
    """
    attention, width = REGIMES[regime]
    t0 = time.perf_counter()
    T = construct(ds, attention=attention, max_width=width)
    t1 = time.perf_counter()
    rep = verify(T, ds)
    t2 = time.perf_counter()
    bound = certified_float_bound(T, ds)
    margins = [m for m in hardmax_margins(T, ds.inputs) if m is not None] if attention == "hardmax" else []
    scale = data_scale(ds)
    return {
        "dataset": name,
        "regime": regime,
        "N": ds.N,
        "sum_n": sum(ds.n),
        "d": ds.d,
        "blocks": T.num_blocks,
        "parameters": T.num_parameters,
        "bits": T.max_bits(),
        "construct_s": t1 - t0,
        "verify_s": t2 - t1,
        "exact": rep.ok,
        "float_rel": rep.float_deviation / scale,
        "bound_rel": bound / scale,
        "margin": min(margins) if margins else None,
        "model": T,
    }


def table_html(rows: list[dict]) -> str:
    """The chapter's table as HTML, one row per model, in two parts that fit the page: the models,
    then their times and float64 measures."""
    sizes = "dataset|regime|N|Σn|d|blocks|nonzero parameters|bits (num/den)".split("|")
    checks = "dataset|regime|construct s|verify s|float64 deviation|certified bound|hardmax margin".split("|")
    first = [
        [r["dataset"], r["regime"], *map(str, (r["N"], r["sum_n"], r["d"], r["blocks"], r["parameters"]))]
        + [f"{r['bits'][0]}/{r['bits'][1]}"]
        for r in rows
    ]
    second = [
        [r["dataset"], r["regime"], f"{r['construct_s']:.1f}", f"{r['verify_s']:.1f}"]
        + [f"{r['float_rel']:.1e}", f"{r['bound_rel']:.1e}"]
        + ["-" if r["margin"] is None else f"{float(r['margin']):.2g}"]
        for r in rows
    ]
    return html_table(sizes, first) + "<p></p>" + html_table(checks, second)


def firing_side_errors(eps_exponents: tuple[int, ...] = (4, 12, 20, 28, 36)) -> list[dict]:
    """Float64 error of ONE bump (half-width eps = 2^-k along u = (3, -5)) on 50 tokens on each side of it.

    The bump moves z = (1/3, 2/7) by (5/3, 1/7). Every token lies outside its slab, so the exact
    layer leaves them all where they are. On the quiet side its four ReLUs are exactly 0 in
    float64 too; on the firing side they are active and cancel only up to rounding: an error of
    order 2^-53 |delta| t / eps, t the token's distance from the centre along u (``model``).
    """
    u, z, delta = (QQ(3), QQ(-5)), (QQ(1, 3), QQ(2, 7)), (QQ(5, 3), QQ(1, 7))
    tokens = {
        "firing": [(QQ(7, 10) + QQ(j, 97), QQ(-3, 10)) for j in range(50)],
        "quiet": [(QQ(-7, 10) - QQ(j, 97), QQ(3, 10)) for j in range(50)],
    }
    t = max(abs(float(exact_dot(u, x) - exact_dot(u, z))) for x in tokens["firing"])
    out = []
    for k in eps_exponents:
        eps = QQ(1, 2**k)
        ff = ff_from_neurons(2, bump_neurons(u, z, eps, delta, plateau=eps / 2))
        row = {"eps": 2.0**-k, "model": 2.0**-53 * float(delta[0]) * t / 2.0**-k}
        for side, xs in tokens.items():
            X = to_float_array(np.array(xs, dtype=object))
            row[side] = float(np.abs(ff.forward_float(X) - X).max())
        out.append(row)
    return out


def value_stats(name: str) -> dict:
    """Range of the feature values of a bundled dataset and the smallest gap between two distinct values
    of one feature, relative to the largest |value| (how thin the construction's slabs can get)."""
    data, _ = REAL[name].loader()
    flat = data.reshape(len(data), -1)
    if REAL[name].by_row:  # digits: a pixel's values, whatever its column
        flat = flat.reshape(-1, 1)
    top = float(np.abs(flat).max())
    gaps = [np.diff(np.unique(col)) for col in flat.T]
    smallest = min(float(g.min()) for g in gaps if len(g))
    positive = flat[flat > 0]
    return {"min_positive": float(positive.min()), "max": top, "relative_gap": smallest / top}
