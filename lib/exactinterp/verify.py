"""``verify``: exact check of exact interpolation, float64 differential check, softmax certificate."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .dataset import Dataset, InputError
from .layers import Block, _exact_dot
from .numbers import Q, row_key, to_float_array
from .state import State
from .transformer import Transformer

__all__ = ["verify", "Report", "SequenceReport", "hardmax_margins", "float_trace", "LayerTrace", "block_gain"]


@dataclass
class SequenceReport:
    """Outcome for one sequence: token-wise reading (I1), set reading (I2), worst tokens."""

    index: int
    tokenwise: bool  # T(X)_k = y_k for k <= m and T(X)_i = y_1 for the others
    setwise: bool  # {T(X)_i} = {y_1, ..., y_m}
    undecided: int  # tokens whose enclosure contains the target but is not a point
    wrong: list[int] = field(default_factory=list)  # token indices that miss their target
    float_deviation: float = 0.0

    @property
    def ok(self) -> bool:
        return self.tokenwise and self.setwise


@dataclass
class Report:
    """What ``verify`` found; ``ok`` iff both readings hold for every sequence, proven exactly."""

    sequences: list[SequenceReport]
    softmax: bool
    exact_outputs: bool  # every output token is a rational (no ball left)
    float_deviation: float  # largest |float64 forward - target| over all tokens
    num_blocks: int
    num_parameters: int
    margins: list[Any] | None = None

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.sequences) and self.exact_outputs

    @property
    def certified(self) -> bool:
        """Exactness proven by rational arithmetic (and ball enclosures for softmax layers)."""
        return self.ok

    @property
    def failed(self) -> list[int]:
        return [s.index for s in self.sequences if not s.ok]

    def summary(self) -> str:
        kind = "softmax (certified by ball arithmetic)" if self.softmax else "hardmax (exact rationals)"
        if self.ok:
            head = f"OK: exact interpolation of {len(self.sequences)} sequences, {kind}"
        else:
            und = sum(s.undecided for s in self.sequences)
            head = f"FAILED: {len(self.failed)} of {len(self.sequences)} sequences not interpolated" + (
                f" ({und} tokens undecided by the enclosures)" if und else ""
            )
        counts = f"{self.num_blocks} blocks, {self.num_parameters} nonzero parameters"
        return f"{head}; {counts}; float64 max deviation {self.float_deviation:.3g}"

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "certified": self.certified,
            "softmax": self.softmax,
            "num_blocks": self.num_blocks,
            "num_parameters": self.num_parameters,
            "float64_max_deviation": self.float_deviation,
            "failed_sequences": self.failed,
            "sequences": [
                {
                    "index": s.index,
                    "tokenwise": s.tokenwise,
                    "setwise": s.setwise,
                    "wrong_tokens": s.wrong[:20],
                    "undecided_tokens": s.undecided,
                    "float64_max_deviation": s.float_deviation,
                }
                for s in self.sequences
            ],
        }


def _equal_exact(v: Any, t: Any) -> bool | None:
    """True/False if decided; None if a ball contains the target without being a point."""
    if isinstance(v, Q):
        return v == t
    if v.contains(t):
        return None
    return False


def hardmax_margins(T: Transformer, inputs: list[np.ndarray]) -> list[Any]:
    """For each hardmax SA layer: the smallest exact gap between the best score and the runner-up.

    Per query token i the gap is ``max_j s_ij`` minus the largest score strictly below it; the
    layer's margin is the minimum over all queries of all sequences. ``None`` for layers whose
    scores need no decision (skip, all-tie, softmax, every query tied) or whose input is not exact.
    A score perturbation below half the margin cannot move a maximiser outside the exact set.
    """
    st = State.from_sequences(inputs)
    out: list[Any] = []
    for b in T.blocks:
        st = b.ff.apply(st)
        sa = b.sa
        if sa.kind in ("skip", "mean") or not sa.is_hardmax or not st.is_exact:
            out.append(None)
        else:
            out.append(_layer_margin(sa, st))
        st = sa.apply(st)
    return out


def _min_opt(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else min(a, b)


def _rank1_margin(sa, E: np.ndarray) -> Any:
    """Rank-one scores (q.x_i)(k.x_j): the gap is |q.x_i| times the top (or bottom) key gap. O(n log n)."""
    qv = [_exact_dot(sa.Q[0], x) for x in E]
    ks = sorted({_exact_dot(sa.K[0], x) for x in E})
    if len(ks) < 2:
        return None
    top, bot = ks[-1] - ks[-2], ks[1] - ks[0]
    g = None
    for a in qv:
        if a > 0:
            g = _min_opt(g, a * top)
        elif a < 0:
            g = _min_opt(g, -a * bot)
    return g


def _general_margin(sa, E: np.ndarray, F: np.ndarray) -> Any:
    """Full scores <Q x_i, K x_j>: float64 proposes the top two score levels, exact arithmetic decides."""
    n = len(E)
    A, B = F @ sa.Qf.T, F @ sa.Kf.T
    Aabs = np.abs(F) @ np.abs(sa.Qf).T
    Babs = np.abs(F) @ np.abs(sa.Kf).T
    c = 64.0 * (sa.d + sa.h + 4) * 2.0**-52
    err = c * (Aabs @ Babs.max(axis=0, initial=0.0)) + 1e-300  # bound on |float score - exact score| per row
    qx: dict[int, Any] = {}
    kx: dict[int, Any] = {}

    def score(i: int, j: int) -> Any:
        if i not in qx:
            qx[i] = sa._exact_proj(sa.Q, E[i])
        if j not in kx:
            kx[j] = sa._exact_proj(sa.K, E[j])
        return _exact_dot(qx[i], kx[j])

    g = None
    S = A @ B.T
    if not (np.all(np.isfinite(S)) and np.all(np.isfinite(err))):  # float64 overflow: all exact
        S, err = np.zeros((n, n)), np.full(n, np.inf)
    for i in range(n):
        row, e = S[i], err[i]
        near = np.nonzero(row >= row.max() - 2 * e)[0]
        vals = {int(j): score(i, int(j)) for j in near}
        best = max(vals.values())
        below = [v for v in vals.values() if v < best]
        rest = np.setdiff1d(np.arange(n), near, assume_unique=True)
        if len(rest):  # every key outside `near` scores strictly below best; find the largest
            m2 = row[rest].max()
            below += [score(i, int(j)) for j in rest[row[rest] >= m2 - 2 * e]]
        if below:
            g = _min_opt(g, best - max(below))
    return g


def _layer_margin(sa, st: State) -> Any:
    best = None
    for j in range(st.num_sequences):
        sl = st.seq_slice(j)
        if sa.kind == "rank1":
            g = _rank1_margin(sa, st.E[sl])
        else:
            g = _general_margin(sa, st.E[sl], st.F[sl])
        best = _min_opt(best, g)
    return best


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
            margin = _layer_margin(sa, st)
            for j, X in enumerate(fl):
                sl = st.seq_slice(j)
                Sf = (X @ sa.Qf.astype(dtype).T) @ (X @ sa.Kf.astype(dtype).T).T
                E = st.E[sl]
                qx = [sa._exact_proj(sa.Q, x) for x in E]
                kx = [sa._exact_proj(sa.K, x) for x in E]
                exact_rows = sa.maximisers(st, j)
                for i in range(len(E)):
                    fset = set(np.nonzero(Sf[i] == Sf[i].max())[0].tolist())
                    eset = {c - sl.start for c in exact_rows[i]}
                    broken += fset != eset
                    escaped += not fset <= eset
                    for c in fset | eset:  # score error where it matters: at the float and exact maximisers
                        err = abs(float(Sf[i, c]) - float(_exact_dot(qx[i], kx[c])))
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


def verify(T: Transformer, ds: Dataset, *, progress: bool = False, margins: bool = False) -> Report:
    """Exact interpolation check of ``T`` on ``ds`` (both readings of DESIGN §3)."""
    if T.d != ds.d:
        raise InputError(f"the model acts on d = {T.d} but the dataset has d = {ds.d}")
    outs = T.forward_many(ds.inputs, exact=True, progress=progress)
    floats = T.forward_many([to_float_array(X) for X in ds.inputs], exact=False)
    reports = []
    all_exact = True
    worst = 0.0
    for j, (out, fl) in enumerate(zip(outs, floats, strict=True)):
        tgt = ds.targets(j)
        Y = ds.outputs[j]
        wrong, undecided = [], 0
        for i in range(len(out)):
            res = [_equal_exact(v, t) for v, t in zip(out[i], tgt[i], strict=True)]
            if any(r is False for r in res):
                wrong.append(i)
            elif any(r is None for r in res):
                undecided += 1
        exact_rows = all(isinstance(v, Q) for v in out.ravel())
        all_exact &= exact_rows
        if exact_rows:
            got = {row_key(r) for r in out}
            want = {row_key(r) for r in Y}
            setwise = got == want
        else:
            setwise = False
        dev = float(np.max(np.abs(fl - to_float_array(tgt)))) if len(out) else 0.0
        if not np.isfinite(dev):
            dev = float("inf")
        worst = max(worst, dev)
        reports.append(
            SequenceReport(
                index=j,
                tokenwise=not wrong and undecided == 0,
                setwise=setwise,
                undecided=undecided,
                wrong=wrong,
                float_deviation=dev,
            )
        )
    return Report(
        sequences=reports,
        softmax=not T.is_hardmax,
        exact_outputs=all_exact,
        float_deviation=worst,
        num_blocks=T.num_blocks,
        num_parameters=T.num_parameters,
        margins=hardmax_margins(T, ds.inputs) if margins else None,
    )
