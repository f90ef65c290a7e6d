"""Exact attention scores ``s_ik = <Q x_i, K x_k>``: score matrices, gaps, and hardmax maximiser sets.

The hardmax rule (a_i uniform over **all** exact maximisers of s_i.) is decided here. A float64
shadow proposes the candidates; exact arithmetic (rationals, or balls after a softmax layer)
confirms them, so no tie is ever decided by float ``==``:

* rank-one scores ``(q.x_i)(k.x_k)`` are maximised by the top or bottom keys along k, by the sign
  of ``q.x_i``: O(n) per sequence;
* full-rank scores: keys of largest norm are candidates, and a query whose best candidate beats
  every other key's Cauchy-Schwarz bound needs no full row.

Functions take the layer ``sa`` (a :class:`~exactinterp.core.attention.SelfAttention`) as their
first argument; they read its exact ``Q, K`` and float shadows ``Qf, Kf``.
"""

from __future__ import annotations

from typing import Any

import flint
import numpy as np

from .numbers import Q, exact_dot, to_float_array
from .state import FILTER_SLACK, State, certain_sign

__all__ = ["ExactScores", "project", "score_matrix", "score_gaps", "runner_up_gaps", "maximiser_sets", "ALL_TIED"]

_U = FILTER_SLACK

#: The gap reported for a query whose scores all tie (no decision to make).
ALL_TIED = None


def project(M: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Exact ``M x`` (an object vector) for one token ``x``."""
    return np.array([exact_dot(row, x) for row in M], dtype=object)


class ExactScores:
    """Exact scores ``<Q x_i, K x_k>`` of one sequence on demand.

    The projections ``Q x`` and ``K x`` are computed once, by one flint matrix product each when the
    tokens are rational (per token otherwise: balls after a softmax layer).
    """

    def __init__(self, sa: Any, E: np.ndarray) -> None:
        self.sa, self.E = sa, E
        self._qx: Any = None
        self._kx: Any = None

    def _project(self) -> None:
        E, sa = self.E, self.sa
        n, d = E.shape
        if n and all(isinstance(v, Q) for v in E.ravel()):
            Xm = flint.fmpq_mat(n, d, E.ravel().tolist())
            self._qx = np.array((Xm * _flint_T(sa, "Q")).entries(), dtype=object).reshape(n, sa.h)
            self._kx = np.array((Xm * _flint_T(sa, "K")).entries(), dtype=object).reshape(n, sa.h)
        else:
            self._qx = np.array([project(sa.Q, x) for x in E], dtype=object).reshape(n, sa.h)
            self._kx = np.array([project(sa.K, x) for x in E], dtype=object).reshape(n, sa.h)

    def __call__(self, i: int, k: int) -> Any:
        if self._qx is None:
            self._project()
        return exact_dot(self._qx[i], self._kx[k])


def _flint_T(sa: Any, name: str) -> Any:
    """The transpose of ``sa.Q`` or ``sa.K`` as a flint matrix (cached on the layer)."""
    cache = sa.__dict__.setdefault("_flint_cache", {})
    if name not in cache:
        M = getattr(sa, name)
        cache[name] = flint.fmpq_mat(M.shape[1], M.shape[0], M.T.ravel().tolist())
    return cache[name]


def score_matrix(sa: Any, X: np.ndarray) -> np.ndarray:
    """Exact n×n score matrix ``<Q x_i, K x_k>`` of one rational sequence (one flint matrix product)."""
    n, d = X.shape
    Xm = flint.fmpq_mat(n, d, list(X.ravel()))
    Qm = flint.fmpq_mat(sa.h, d, list(sa.Q.ravel()))
    Km = flint.fmpq_mat(sa.h, d, list(sa.K.ravel()))
    out = np.empty(n * n, dtype=object)
    out[:] = ((Xm * Qm.transpose()) * (Xm * Km.transpose()).transpose()).entries()
    return out.reshape(n, n)


def score_gaps(sa: Any, X: np.ndarray) -> list[tuple[tuple[int, ...], Any]]:
    """For every token: (maximiser set C_i, exact gap γ_i = best score - best score outside C_i).

    γ_i is ``ALL_TIED`` (None) when every score of the row ties. Exact, with float64 proposing the
    maximisers and runner-ups (:func:`runner_up_gaps`): no n×n exact score matrix.
    """
    n = len(X)
    idx = np.arange(n)
    if sa.kind in ("skip", "mean"):
        return [(tuple(range(n)), ALL_TIED)] * n
    F, R = to_float_array(X), np.zeros(n)
    sets = _rank1(sa, X, F, R, idx) if sa.kind == "rank1" else _general(sa, X, F, R, idx)
    return list(zip(sets, runner_up_gaps(sa, X, F, R, sets), strict=True))


def runner_up_gaps(sa: Any, E: np.ndarray, F: np.ndarray, R: np.ndarray, sets: list[tuple[int, ...]]) -> list[Any]:
    """Exact γ_i = s_i,C - max_{k not in C_i} s_ik for one rational sequence (``ALL_TIED`` when C_i is all).

    ``sets`` are the exact maximiser sets (indices into the sequence). Float64 scores propose the
    runner-ups (keys within twice the score error of the best float score outside C_i); exact
    scores decide among them. Falls back to the exact score matrix when floats overflow.
    """
    n = len(E)
    A, B = F @ sa.Qf.T, F @ sa.Kf.T
    err = _score_error(sa, A, B, F, R)
    if not (np.all(np.isfinite(A)) and np.all(np.isfinite(B)) and np.isfinite(err)):
        S = score_matrix(sa, E)
        return [ALL_TIED if len(C) == n else S[i, C[0]] - max(S[i, k] for k in range(n) if k not in C)
                for i, C in enumerate(sets)]  # fmt: skip
    score = ExactScores(sa, E)
    out: list[Any] = []
    for c0 in range(0, n, 256):
        S = A[c0 : c0 + 256] @ B.T
        for r, row in enumerate(S):
            i, C = c0 + r, sets[c0 + r]
            if len(C) == n:
                out.append(ALL_TIED)
                continue
            row[list(C)] = -np.inf
            near = np.flatnonzero(row >= row.max() - 2 * err)
            out.append(score(i, C[0]) - max(score(i, int(k)) for k in near))
    return out


def maximiser_sets(sa: Any, st: State, j: int) -> list[tuple[int, ...]]:
    """Exact hardmax maximiser sets (global row indices of ``st``) of every token of sequence j."""
    sl = st.seq_slice(j)
    idx = np.arange(sl.start, sl.stop)
    if sa.kind in ("skip", "mean"):
        return [tuple(int(v) for v in idx)] * len(idx)
    E, F, R = st.E[sl], st.F[sl], st.R[sl]
    if sa.kind == "rank1":
        return _rank1(sa, E, F, R, idx)
    return _general(sa, E, F, R, idx)


def _extreme_set(vals_f: np.ndarray, err: np.ndarray, E: np.ndarray, k: np.ndarray, top: bool) -> list[int]:
    """Exact argmax (top) or argmin set of <k, x_j>, via a float filter."""
    if top:
        cand = np.nonzero(vals_f + err >= vals_f.max() - err.max())[0]
    else:
        cand = np.nonzero(vals_f - err <= vals_f.min() + err.max())[0]
    exact = [exact_dot(k, E[c]) for c in cand]
    best = max(exact) if top else min(exact)
    if any(isinstance(v, flint.arb) for v in exact):
        tied = [c for c, v in zip(cand, exact, strict=True) if (v == best) or v.overlaps(best)]
        if len(tied) > 1 and not all(v == best for v in exact if v.overlaps(best)):
            raise ArithmeticError("ball arithmetic cannot decide a hardmax maximiser")
        return tied
    return [int(c) for c, v in zip(cand, exact, strict=True) if v == best]


def _rank1(sa: Any, E: np.ndarray, F: np.ndarray, R: np.ndarray, idx: np.ndarray) -> list[tuple[int, ...]]:
    """Rank-one scores: the top keys for a positive query, the bottom keys for a negative one, all for 0."""
    q, k = sa.Qf[0], sa.Kf[0]
    a_f, b_f = F @ q, F @ k
    slack = np.abs(F).max(axis=1, initial=0.0) * _U + R * (1 + _U)
    err_a = slack * np.abs(q).sum() + _U * (np.abs(F) @ np.abs(q))
    err_b = slack * np.abs(k).sum() + _U * (np.abs(F) @ np.abs(k))
    top = tuple(sorted(int(v) for v in idx[_extreme_set(b_f, err_b, E, sa.K[0], True)]))
    bot = tuple(sorted(int(v) for v in idx[_extreme_set(b_f, err_b, E, sa.K[0], False)]))
    every = tuple(int(v) for v in idx)
    out = []
    for i in range(len(idx)):
        if a_f[i] > err_a[i]:
            out.append(top)
        elif a_f[i] < -err_a[i]:
            out.append(bot)
        else:
            s = certain_sign(exact_dot(sa.Q[0], E[i]))
            if s is None:
                raise ArithmeticError("ball arithmetic cannot decide the sign of a query")
            out.append(top if s > 0 else bot if s < 0 else every)
    return out


def _all_copies(E: np.ndarray, F: np.ndarray, R: np.ndarray, rows: np.ndarray) -> bool:
    """True when all ``rows`` hold the same exact rational value (float rows filter first)."""
    r0 = rows[0]
    if R[r0] > 0 or not np.all(F[rows] == F[r0]):
        return False
    return all(R[r] == 0 and all(a == b for a, b in zip(E[r], E[r0], strict=True)) for r in rows[1:])


def _score_error(sa: Any, A: np.ndarray, B: np.ndarray, F: np.ndarray, R: np.ndarray) -> float:
    """Bound on |float score - exact score| over one sequence (roundings and ball radii)."""
    scale = 1.0 + np.abs(F).max(initial=0.0) + R.max(initial=0.0)
    amax = 1.0 + np.abs(A).max(initial=0.0)
    bmax = 1.0 + np.abs(B).max(initial=0.0)
    qn = 1.0 + np.abs(sa.Qf).sum(axis=1).max()
    kn = 1.0 + np.abs(sa.Kf).sum(axis=1).max()
    rad = R.max(initial=0.0) * (1 + _U) + scale * _U
    err = sa.h * (_U * amax * bmax + rad * (qn * bmax + kn * amax) + rad * rad * qn * kn)
    return 4 * err + 1e-300


def _candidate_scores(A: np.ndarray, B: np.ndarray, err: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Float scores of every query against the keys of largest norm: (scores, those keys, certain).

    A query is *certain* when its best candidate beats every other key's Cauchy-Schwarz bound:
    its maximisers are among the candidates. The others need their full row.
    """
    n = len(A)
    bnorm = np.sqrt((B * B).sum(axis=1))
    order = np.argsort(-bnorm, kind="stable")
    kc = min(n, 32)
    cand, rest_norm = order[:kc], (bnorm[order[kc]] if kc < n else -np.inf)
    Sc = A @ B[cand].T
    if kc < n:
        cert = Sc.max(axis=1) - err > np.sqrt((A * A).sum(axis=1)) * rest_norm + err
    else:
        cert = np.ones(n, dtype=bool)
    return Sc, cand, cert


def _general(sa: Any, E: np.ndarray, F: np.ndarray, R: np.ndarray, idx: np.ndarray) -> list[tuple[int, ...]]:
    """Full-rank scores: float candidates near the best score, confirmed by exact scores.

    A query whose float scores single out one key (by more than twice the error bound) gets it
    without exact work, all such queries in one vectorised pass.
    """
    A, B = F @ sa.Qf.T, F @ sa.Kf.T  # (n, h) queries and keys
    err = _score_error(sa, A, B, F, R)
    Sc, cand, cert = _candidate_scores(A, B, err)
    out: list[Any] = [None] * len(idx)
    ci = np.flatnonzero(cert)
    if len(ci):
        S = Sc[ci]
        single = (S >= S.max(axis=1, keepdims=True) - 2 * err).sum(axis=1) == 1
        for i, k in zip(ci[single].tolist(), idx[cand[S[single].argmax(axis=1)]].tolist(), strict=True):
            out[i] = (k,)
    todo = [i for i, o in enumerate(out) if o is None]
    full = [i for i in todo if not cert[i]]
    full_rows = {}
    everyone = np.arange(len(idx))
    for c0 in range(0, len(full), 256):
        chunk = full[c0 : c0 + 256]
        full_rows.update(zip(chunk, A[chunk] @ B.T, strict=True))
    score = ExactScores(sa, E)
    for i in todo:
        row, cols = (Sc[i], cand) if cert[i] else (full_rows[i], everyone)
        near = cols[row >= row.max() - 2 * err]
        if len(near) == 1 or _all_copies(E, F, R, near):
            # every candidate is an exact copy of one value: they tie exactly, no score needed
            out[i] = tuple(sorted(int(v) for v in idx[near]))
            continue
        vals = [score(i, jj) for jj in near.tolist()]
        out[i] = tuple(sorted(int(v) for v in idx[np.array(_exact_argmax(near, vals), dtype=int)]))
    return out


def _exact_argmax(near: np.ndarray, vals: list[Any]) -> list[int]:
    """Indices of the exact maximal scores (balls: the maximiser must be certain)."""
    if any(isinstance(v, flint.arb) for v in vals):
        tops = [jj for jj, v in zip(near, vals, strict=True) if all(not (w > v) for w in vals)]
        if len(tops) != 1 and not all(vals[0] == v for v in vals):
            raise ArithmeticError("ball arithmetic cannot decide a hardmax maximiser")
        return tops
    best = max(vals)
    return [int(jj) for jj, v in zip(near, vals, strict=True) if v == best]
