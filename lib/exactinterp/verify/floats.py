"""Float forwards of exact models: deviation from the targets, and a block-by-block trace against the exact one.

:func:`float_trace` runs the exact and a float forward side by side and reports, per block, the
hardmax margin, the float score error, the queries whose float maximiser set differs from the
exact one, and the drift; :func:`block_gain` bounds how much a block can amplify a perturbation.
"""

from __future__ import annotations

import math
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


# ----------------------------------------------------------------------------- the data's scale

#: Default tolerance of the float64 deviation, relative to the data's scale (``verify --float-tol``).
FLOAT_TOL = 1e-6


def data_scale(ds: Dataset) -> float:
    """The scale float64 deviations are measured against: the largest |target| (else |input|, else 1)."""
    for seqs in (ds.outputs, ds.inputs):
        top = max(float(np.max(np.abs(to_float_array(X)))) for X in seqs)
        if top > 0:
            return top
    return 1.0


# ----------------------------------------------------------------------------- certified float64 bound
#
# A rigorous enclosure of what the float64 forward computes (not of the exact forward): every token
# is a midpoint M and a radius R (float arrays) with |float value - M| <= R entrywise. Each operation
# of the float forward (FeedForward.forward_float, SelfAttention.forward_float) is mirrored: the new
# midpoint is the float result on the midpoints, the new radius bounds the propagated radii plus the
# rounding of both computations, by the standard IEEE-754 model (round to nearest: every result is
# the exact one times (1 + e), |e| <= u = 2^-53; a dot product of length k, in any order and with or
# without FMA, is within gamma_k = k u / (1 - k u) of the exact one, relative to the sum of |terms|).
# Radii are computed in float from nonnegative terms and then inflated (_up) past their own rounding.
# Two facts keep it tight: a ReLU whose whole enclosure is <= 0 gives an exact 0, so the quiet side
# of a bump costs nothing; and a hardmax row with one possible maximiser copies its key exactly.
# Softmax layers need exp: its float64 result is assumed within 2^-40 of the true value relative
# (any libm is accurate to a few ulp, i.e. about 2^-51); this is the one assumption beyond IEEE-754.

_U = 2.0**-53
_TINY = 2.0**-1070  # covers underflow of one product
_EXP_REL = 2.0**-40


def _gamma(k: int) -> float:
    return (k + 2) * _U / (1 - (k + 2) * _U)


def _up(x: np.ndarray, k: int = 1) -> np.ndarray:
    """An upper bound of a nonnegative quantity whose float computation from nonnegative terms took k roundings."""
    return np.asarray(x, dtype=np.float64) * (1.0 + (k + 4) * 2.0**-52) + (k + 1) * _TINY


def _is_pow2(c: float) -> bool:
    return c == 0 or (np.isfinite(c) and abs(np.frexp(c)[0]) == 0.5)


def _scale(c: float, M: np.ndarray, R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Enclosure of fl(c x)."""
    if _is_pow2(c):
        return c * M, abs(c) * R
    out = c * M
    return out, _up(abs(c) * R * (1 + _U) + 2 * _U * np.abs(out), 3)


def _add(Xm: np.ndarray, Xr: np.ndarray, Ym: np.ndarray, Yr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Enclosure of fl(x + y)."""
    S = Xm + Ym
    return S, _up((Xr + Yr) * (1 + _U) + 2 * _U * (1 + _U) * np.abs(S), 4)


def _matmul(Am: np.ndarray, Ar: np.ndarray, B: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Enclosure of fl(A @ B): A uncertain (midpoint, radius), B an exact float matrix (k rows)."""
    k = B.shape[0]
    g = _gamma(k)
    return Am @ B, _up((Ar * (1 + g) + 2 * g * np.abs(Am)) @ np.abs(B), k + 3)


def _matmul2(Am, Ar, Bm, Br) -> tuple[np.ndarray, np.ndarray]:
    """Enclosure of fl(A @ B) with both factors uncertain."""
    k = Am.shape[-1]
    g = _gamma(k)
    aA, aB = np.abs(Am), np.abs(Bm)
    rad = aA @ Br + Ar @ (aB + Br) + g * (aA + Ar) @ (aB + Br) + g * aA @ aB
    return Am @ Bm, _up(rad, k + 6)


def _relu(Hm: np.ndarray, Hr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Enclosure of relu: exact 0 where the enclosure is <= 0, unchanged where it is >= 0, [0, hi] between."""
    hi = Hm + Hr  # fl(a + b) <= 0 iff a + b <= 0 (an exact sum of floats is a multiple of 2^-1074)
    lo = Hm - Hr
    neg, pos = hi <= 0, lo >= 0
    mid = np.where(neg, 0.0, np.where(pos, Hm, hi / 2))
    rad = np.where(neg, 0.0, np.where(pos, Hr, _up(hi / 2, 2)))
    return mid, rad


def _slope_table(W: np.ndarray, kinks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted kinks of one group and upper bounds of |slope| (per output coordinate) on each of its segments.

    On segment s (s kinks strictly below q) the group adds sum of the W columns of its first s kinks;
    the sums are correctly rounded (math.fsum), so a flat segment (slopes that cancel) is exactly 0.
    """
    order = np.argsort(kinks, kind="stable")
    Ws = W[:, order]
    table = np.empty((len(order) + 1, W.shape[0]))
    for seg in range(len(order) + 1):
        table[seg] = [abs(math.fsum(Ws[r, :seg])) for r in range(W.shape[0])]
    return kinks[order], table * (1 + 2 * _U)


#: Rows enclosed at a time by :func:`_ff_enclosure`: a wide layer (a snap of 36,000 neurons) would
#: otherwise hold several (tokens x width) float arrays at once (8,000 digit tokens: 2 GiB each).
_CHUNK_ENTRIES = 2**22


def _ff_enclosure(ff: Any, M: np.ndarray, R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """FF(x) = eta x + W relu(U x + b), as FeedForward.forward_float computes it.

    Neurons with equal rows u of U form a group: the float forward computes one dot product q = fl(u x)
    for all of them (assumption (ii)), and the group adds phi(q) = sum W_k relu(q + b_k), piecewise
    linear in q. So an uncertainty of q moves the output by at most the group's largest |slope| on
    the segments it spans, times it: zero on a bump's quiet side, plateau and firing side. Tokens are
    independent: they are enclosed in chunks of rows (memory bounded by ``_CHUNK_ENTRIES``).
    """
    Em, Er = _scale(ff.etaf, M, R)
    if ff.width == 0:
        return Em, Er
    rows, inv = np.unique(ff.Uf, axis=0, return_inverse=True)
    inv = np.ravel(inv)
    groups = []
    for g, u in enumerate(rows):
        ks = np.nonzero(inv == g)[0]
        au = np.abs(u)
        groups.append((ks, au, *(_slope_table(ff.Wf[:, ks], -ff.bf[ks]) if au.any() else (None, None))))
    step = max(1, _CHUNK_ENTRIES // ff.width)
    parts = [
        _ff_rows(ff, groups, M[a : a + step], R[a : a + step], Em[a : a + step], Er[a : a + step])
        for a in range(0, len(M), step)
    ]
    if not parts:
        return Em, Er
    return np.concatenate([p[0] for p in parts], axis=0), np.concatenate([p[1] for p in parts], axis=0)


def _ff_rows(ff: Any, groups: list, M: np.ndarray, R: np.ndarray, Em: np.ndarray, Er: np.ndarray):
    """:func:`_ff_enclosure` on a chunk of rows (``groups``: per group of equal U rows, its neurons, |u|
    and slope table; ``Em``, ``Er``: the enclosure of eta x)."""
    Uf, bf, Wf = ff.Uf, ff.bf, ff.Wf
    P = M @ Uf.T
    Hm = P + bf
    Zm = np.maximum(Hm, 0.0)
    Om = Em + Zm @ Wf.T  # the float forward on the midpoints
    gd = _gamma(ff.d)
    absM = np.abs(M)
    hr = np.zeros_like(Hm)  # bounds of |h_k(F) - Hm_k|
    prop = np.zeros_like(M)  # sum over groups of max|slope| * |q(F) - qm|
    for ks, au, kinks, table in groups:
        if kinks is None:  # a constant neuron: q = 0 exactly
            continue
        qr = _up(R @ au + gd * (2 * absM + R) @ au, ff.d + 6)
        hr[:, ks] = _up(qr[:, None] * (1 + 2 * _U) + 2 * _U * np.abs(Hm[:, ks]), 4)
        qm = P[:, ks[0]]
        lo = np.searchsorted(kinks, qm - 2 * qr, "left")
        hi = np.searchsorted(kinks, qm + 2 * qr, "left")
        L = table[lo].copy()
        for i in np.nonzero(hi > lo)[0]:
            L[i] = table[lo[i] : hi[i] + 1].max(axis=0)
        prop += L * qr[:, None]
    live = Hm + hr > 0  # neurons that may be active in the float forward of F or of M
    Zr = np.where(live, hr, 0.0)
    relu_err = np.where(live, 2 * _U * (np.abs(Hm) + hr), 0.0)
    aW = np.abs(Wf)
    gw = _gamma(ff.width)
    rad = Er + prop + (relu_err + gw * (2 * Zm + Zr)) @ aW.T
    rad = _up(rad * (1 + _U) + 2 * _U * np.abs(Om), ff.width + 8)
    silent = ~live.any(axis=1)  # every neuron exactly 0 for F and M: the output is fl(eta x) itself
    Om[silent], rad[silent] = Em[silent], Er[silent]
    return Om, rad


def _mix(sa: Any, M: np.ndarray, R: np.ndarray, Am: np.ndarray, Ar: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """rho x + V avg (avg enclosed by Am, Ar), as forward_float combines them."""
    V = sa.Vf
    if np.array_equal(V, np.eye(len(V))):
        Vm, Vr = Am, Ar  # avg @ I is exact
    else:
        Vm, Vr = _matmul(Am, Ar, V.T)
    if sa.rhof == 0:
        return Vm, Vr
    Xm, Xr = _scale(sa.rhof, M, R)
    return _add(Xm, Xr, Vm, Vr)


def _scores(sa: Any, M: np.ndarray, R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of the float scores (X Q^T)(X K^T)^T of one sequence."""
    Am, Ar = _matmul(M, R, sa.Qf.T)
    Bm, Br = _matmul(M, R, sa.Kf.T)
    Sm, Sr = _matmul2(Am, Ar, Bm.T, Br.T)
    return Sm - _up(Sr + 2 * _U * np.abs(Sm), 2), Sm + _up(Sr + 2 * _U * np.abs(Sm), 2)


def _hardmax_rows(sa: Any, M: np.ndarray, R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average over the float maximisers: a possible-maximiser set per query, hull of their enclosures."""
    lo, hi = _scores(sa, M, R)
    cand = hi >= lo.max(axis=1, keepdims=True)  # every key that can be a float maximiser
    Am, Ar = np.empty_like(M), np.empty_like(R)
    for i in range(len(M)):
        js = np.nonzero(cand[i])[0]
        if len(js) == 0:  # an enclosure overflowed (nan): nothing is known
            Am[i], Ar[i] = 0.0, np.inf
            continue
        if len(js) == 1:  # one possible maximiser: its value is copied exactly
            Am[i], Ar[i] = M[js[0]], R[js[0]]
            continue
        a, b = (M[js] - R[js]).min(axis=0), (M[js] + R[js]).max(axis=0)
        Am[i] = (a + b) / 2
        Ar[i] = _up((b - a) / 2 + 2 * _U * np.maximum(np.abs(a), np.abs(b)) + _gamma(len(js)) * np.abs(M[js]).max(0), 6)
    return Am, Ar


def _softmax_rows(sa: Any, M: np.ndarray, R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """exp((s - max s) / tau), normalised, applied to the tokens: interval weights (exp within _EXP_REL)."""
    lo, hi = _scores(sa, M, R)
    mlo, mhi = lo.max(axis=1, keepdims=True), hi.max(axis=1, keepdims=True)
    dlo, dhi = lo - mhi, hi - mlo  # bounds of s - max s, before their rounding
    dlo = np.where(dlo < 0, dlo * (1 + 4 * _U), dlo * (1 - 4 * _U)) - _TINY
    dhi = np.where(dhi < 0, dhi * (1 - 4 * _U), dhi * (1 + 4 * _U)) + _TINY
    cand = hi >= mlo
    one = cand.sum(axis=1) == 1  # one key can be the float maximum: its s - max s is exactly 0
    rows, cols = np.nonzero(cand & one[:, None])
    dlo[rows, cols] = dhi[rows, cols] = 0.0
    t = sa.tauf
    elo = np.exp(dlo / t) * (1 - _EXP_REL) * (1 - 2 * _U)
    ehi = np.exp(dhi / t) * (1 + _EXP_REL) * (1 + 2 * _U) + _TINY
    n = M.shape[0]
    slo, shi = elo.sum(axis=1, keepdims=True) * (1 - _gamma(n)), _up(ehi.sum(axis=1, keepdims=True), n)
    wlo = np.clip(elo / shi * (1 - 4 * _U), 0.0, 1.0)
    whi = np.clip(_up(ehi / slo, 2), 0.0, 1.0)
    wm, wr = (wlo + whi) / 2, _up((whi - wlo) / 2, 2)
    return _matmul2(wm, wr, M, R)


def _sa_enclosure(sa: Any, M: np.ndarray, R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """SA(X) of one sequence, as SelfAttention.forward_float computes it."""
    if sa.kind == "skip":
        return _scale(sa.rhof, M, R)
    if sa.kind == "mean":
        n = len(M)
        mm = M.mean(axis=0, keepdims=True)
        g = _gamma(n) + _U
        mr = _up(R.mean(axis=0, keepdims=True) + g * (2 * np.abs(M) + R).mean(axis=0, keepdims=True), n + 4)
        Am, Ar = np.broadcast_to(mm, M.shape), np.broadcast_to(mr, R.shape)
    elif sa.tauf == 0:
        Am, Ar = _hardmax_rows(sa, M, R)
    else:
        Am, Ar = _softmax_rows(sa, M, R)
    return _mix(sa, M, R, Am, Ar)


def certified_float_bound(T: Transformer, ds: Dataset) -> float:
    """A certified upper bound of the largest |float64 forward - target| over all tokens of ``ds``.

    The float64 forward is enclosed operation by operation (see the comment above): under IEEE-754
    round-to-nearest (and, for softmax layers, exp accurate to 2^-40 relative), the float64 output
    of every token lies within the returned distance of its exact target. Hardmax maximiser sets
    are handled exactly as floats decide them: every key that *can* tie for the float maximum is
    taken into account. Returns inf if an enclosure overflows.
    """
    X = [to_float_array(x) for x in ds.inputs]
    offsets = np.cumsum([0] + [len(x) for x in X])
    M = np.concatenate(X, axis=0)
    R = np.zeros_like(M)
    with np.errstate(over="ignore", invalid="ignore"):
        for b in T.blocks:
            M, R = _ff_enclosure(b.ff, M, R)
            if b.sa.kind == "skip":
                M, R = _scale(b.sa.rhof, M, R)
                continue
            parts = [_sa_enclosure(b.sa, M[a:z], R[a:z]) for a, z in zip(offsets[:-1], offsets[1:], strict=True)]
            M = np.concatenate([p[0] for p in parts], axis=0)
            R = np.concatenate([p[1] for p in parts], axis=0)
        tgt = np.concatenate([to_float_array(ds.targets(j)) for j in range(ds.N)], axis=0)
        err = _up(np.abs(M - tgt) + R + _U * np.abs(tgt), 3)
    top = float(np.max(err)) if err.size else 0.0
    return top if np.isfinite(top) else float("inf")
