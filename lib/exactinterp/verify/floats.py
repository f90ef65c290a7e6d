"""Float forwards of exact models: deviation from the targets, and a block-by-block trace against the exact one.

:func:`float_trace` runs the exact and a float forward side by side and reports, per block, the
hardmax margin, the float score error, the queries whose float maximiser set differs from the
exact one, and the drift; :func:`block_gain` bounds how much a block can amplify a perturbation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.dataset import Dataset
from ..core.numbers import exact_dot, to_float_array
from ..core.scores import maximiser_sets, project
from ..core.state import State
from ..core.transformer import Block, Transformer
from .margins import layer_margin

__all__ = ["float_deviation", "float_trace", "LayerTrace", "block_gain"]


def float_deviation(T: Transformer, ds: Dataset, dtype: Any = np.float64, relative: bool = True) -> float:
    """Largest |float forward - target| over all tokens (divided by the largest |target| if ``relative``)."""
    dev, top = 0.0, 0.0
    for j, X in enumerate(ds.inputs):
        tgt = to_float_array(ds.targets(j))
        out = T.forward(X, exact=False, dtype=dtype).astype(np.float64)
        with np.errstate(invalid="ignore"):
            err = np.abs(out - tgt)
        dev = max(dev, float(np.max(err)) if np.all(np.isfinite(err)) else float("inf"))
        top = max(top, float(np.max(np.abs(tgt))))
    return dev / top if relative and top > 0 else dev


@dataclass
class LayerTrace:
    """One block of a float forward compared with the exact one (see :func:`float_trace`)."""

    block: int
    kind: str  # the SA kind: skip, mean, rank1, general
    margin: Any  # exact hardmax margin of the layer (None if no decision)
    score_error: float  # largest |float score - exact score| over the rows (0 for skip/mean layers)
    broken: int  # query tokens whose float maximiser set differs from the exact one
    escaped: int  # query tokens with a float maximiser outside the exact maximiser set
    deviation: float  # largest |float token - exact token| after the block
    gain: float  # Lipschitz bound of the block (max-norm): (|eta| + || |W||U| ||) (|rho| + ||V||), ties fixed


def block_gain(b: Block) -> float:
    """Upper bound of the block's Lipschitz constant in the max-norm while its maximiser sets stay fixed."""
    ff, sa = b.ff, b.sa
    g_ff = abs(ff.etaf) + (float(np.max((np.abs(ff.Wf) @ np.abs(ff.Uf)).sum(axis=1))) if ff.width else 0.0)
    g_sa = abs(sa.rhof) + (float(np.max(np.abs(sa.Vf).sum(axis=1))) if sa.kind != "skip" else 0.0)
    return g_ff * g_sa


def float_trace(T: Transformer, inputs: list[np.ndarray], dtype: Any = np.float64) -> list[LayerTrace]:
    """Run the exact and the ``dtype`` forward side by side: per block, margin, score error, broken ties, drift."""
    st = State.from_sequences(inputs)
    fl = [to_float_array(X).astype(dtype) for X in inputs]
    out: list[LayerTrace] = []
    for k, b in enumerate(T.blocks):
        st = b.ff.apply(st)
        fl = [b.ff.forward_float(X, dtype) for X in fl]
        sa = b.sa
        margin = None
        score_err, broken, escaped = 0.0, 0, 0
        if sa.kind in ("rank1", "general") and sa.is_hardmax and st.is_exact:
            margin = layer_margin(sa, st)
            for j, X in enumerate(fl):
                sl = st.seq_slice(j)
                Sf = (X @ sa.Qf.astype(dtype).T) @ (X @ sa.Kf.astype(dtype).T).T
                E = st.E[sl]
                qx = [project(sa.Q, x) for x in E]
                kx = [project(sa.K, x) for x in E]
                exact_rows = maximiser_sets(sa, st, j)
                for i in range(len(E)):
                    fset = set(np.nonzero(Sf[i] == Sf[i].max())[0].tolist())
                    eset = {c - sl.start for c in exact_rows[i]}
                    broken += fset != eset
                    escaped += not fset <= eset
                    for c in fset | eset:  # score error where it matters: at the float and exact maximisers
                        err = abs(float(Sf[i, c]) - float(exact_dot(qx[i], kx[c])))
                        score_err = max(score_err, err)
        st = sa.apply(st)
        fl = [sa.forward_float(X, dtype) for X in fl]
        diffs = [np.abs(X.astype(np.float64) - to_float_array(E)) for X, E in zip(fl, st.sequences(), strict=True)]
        dev = max((float(np.max(a)) for a in diffs), default=0.0)
        dev = dev if np.isfinite(dev) else float("inf")
        out.append(
            LayerTrace(
                k, sa.kind, margin, score_err, broken, escaped, dev if np.isfinite(dev) else float("inf"), block_gain(b)
            )
        )
    return out
