"""Self-attention ``SA(X)_i = rho x_i + V sum_j a_ij x_j`` with scores ``<Q x_i, K x_j>``.

``tau = 0`` is hardmax: ``a_i`` is uniform over **all** exact maximisers of the scores (ties split
evenly, decided in :mod:`~exactinterp.core.scores`); ``tau > 0`` is softmax, evaluated as rigorous
balls (:mod:`~exactinterp.core.softmax`). A layer knows its *kind*, which decides how it is
evaluated: ``skip`` (V = 0: the identity times rho), ``mean`` (Q or K = 0: every score ties, each
token gets the sequence mean), ``rank1`` (h = 1) and ``general``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import LayerError
from .numbers import ONE, ZERO, is_zero, layer_matrix, parameter_count, q_matrix, q_to_str, to_float_array, to_q
from .scores import maximiser_sets
from .softmax import apply_softmax
from .state import State

__all__ = ["SelfAttention"]

#: One checked identity layer per (class, d, tau): SelfAttention.identity copies it.
_IDENTITIES: dict = {}


def _segment_means_times(F: np.ndarray, offsets: np.ndarray, V: np.ndarray) -> np.ndarray:
    """Row i of sequence j gets ``V mean(X^j)``: sums in row order, then ``V m`` in coordinate order."""
    offsets = np.asarray(offsets, dtype=np.int64)
    lengths = np.diff(offsets)
    out = np.zeros_like(F)
    nz = np.nonzero(lengths)[0]
    if len(nz) == 0:
        return out
    means = np.add.reduceat(F, offsets[nz], axis=0) / lengths[nz, None].astype(F.dtype)
    mv = means[:, 0:1] * V[:, 0]
    for k in range(1, F.shape[1]):
        mv += means[:, k : k + 1] * V[:, k]
    return np.repeat(mv, lengths[nz], axis=0)


@dataclass(eq=False)
class SelfAttention:
    """``rho x_i + V sum_j a_ij x_j`` with scores ``<Q x_i, K x_j>``; tau = 0 is hardmax."""

    Q: np.ndarray
    K: np.ndarray
    V: np.ndarray
    rho: Any = ONE
    tau: Any = ZERO

    def __post_init__(self) -> None:
        self.rho, self.tau = to_q(self.rho), to_q(self.tau)
        if self.tau < 0:
            raise LayerError("tau must be >= 0 (0 = hardmax)")
        self.V = layer_matrix(self.V, rows=len(self.V), name="V")
        d = self.V.shape[0]
        if self.V.shape != (d, d):
            raise LayerError(f"V has shape {self.V.shape}, expected ({d}, {d})")
        self.Q = layer_matrix(self.Q, rows=len(self.Q), name="Q", cols=d)
        self.K = layer_matrix(self.K, rows=len(self.K), name="K", cols=d)
        if self.Q.shape != self.K.shape:
            raise LayerError(f"Q {self.Q.shape} and K {self.K.shape} differ in shape")
        self.d, self.h = d, self.Q.shape[0]  #: token dimension; rank bound of the scores (rows of Q, K)
        self.Qf, self.Kf, self.Vf = (to_float_array(a) for a in (self.Q, self.K, self.V))
        self.rhof, self.tauf = float(self.rho), float(self.tau)
        zero_v = is_zero(self.V)
        zero_scores = self.Q.shape[0] == 0 or is_zero(self.Q) or is_zero(self.K)
        if zero_v:
            self.kind = "skip"
        elif zero_scores:
            self.kind = "mean"
        elif self.Q.shape[0] == 1:
            self.kind = "rank1"
        else:
            self.kind = "general"
        v_diag = all(self.V[i, j] == 0 for i in range(d) for j in range(d) if i != j)
        self._v_scalar = self.V[0, 0] if v_diag and all(self.V[k, k] == self.V[0, 0] for k in range(d)) else None

    @classmethod
    def identity(cls, d: int, tau: Any = ZERO) -> SelfAttention:
        """rho = 1, V = 0 (and Q = K = 0, h = 1)."""
        tau = to_q(tau)
        key = (cls, d, tau)
        proto = _IDENTITIES.get(key)
        if proto is None:
            z = np.full((1, d), ZERO, dtype=object)
            proto = _IDENTITIES[key] = cls(Q=z, K=z.copy(), V=np.full((d, d), ZERO, dtype=object), rho=ONE, tau=tau)
        out = copy.copy(proto)  # the checks of __post_init__ ran once; the weights are copied below
        out.Q, out.K, out.V = proto.Q.copy(), proto.K.copy(), proto.V.copy()
        out.Qf, out.Kf, out.Vf = proto.Qf.copy(), proto.Kf.copy(), proto.Vf.copy()
        return out

    @property
    def is_hardmax(self) -> bool:
        return self.tau == 0

    @property
    def is_identity(self) -> bool:
        return self.kind == "skip" and self.rho == 1

    def num_parameters(self, dense: bool = False) -> int:
        """Nonzero entries (or all entries) of Q, K, V, rho (tau is a fixed hyper-parameter)."""
        return parameter_count((self.Q, self.K, self.V), self.rho, dense)

    # ------------------------------------------------------------------ float64
    def weights_float(self, X: np.ndarray, dtype: Any = np.float64) -> np.ndarray:
        """Float attention matrix of one sequence (hardmax: float ``==`` ties, as floats do)."""
        X = np.asarray(X, dtype=dtype)
        S = (X @ self.Qf.astype(dtype).T) @ (X @ self.Kf.astype(dtype).T).T
        if self.tauf == 0:
            A = (S == S.max(axis=1, keepdims=True)).astype(dtype)
        else:
            A = np.exp((S - S.max(axis=1, keepdims=True)) / dtype(self.tauf))
        return A / A.sum(axis=1, keepdims=True)

    def forward_float(self, X: np.ndarray, dtype: Any = np.float64) -> np.ndarray:
        """Float forward of one sequence (n, d) in ``dtype`` (float64 by default); may return ``X`` itself."""
        return self.forward_float_stacked(X, np.array([0, len(X)]), dtype)

    def forward_float_stacked(self, F: np.ndarray, offsets: np.ndarray, dtype: Any = np.float64) -> np.ndarray:
        """Float forward of sequences stacked in one (n_total, d) array (sequence j: rows offsets[j]:offsets[j+1]).

        Bit for bit the forward of each sequence on its own: skip and all-tie (mean) layers take one
        pass over the stack (segment sums in row order), the others one pass per sequence.
        """
        F = np.asarray(F, dtype=dtype)
        rho = dtype(self.rhof)
        if self.kind == "skip":
            return F if rho == 1 else rho * F
        V = self.Vf.astype(dtype)
        if self.kind == "mean":
            return (F if rho == 1 else rho * F) + _segment_means_times(F, offsets, V)
        out = np.empty_like(F)
        for j in range(len(offsets) - 1):
            X = F[offsets[j] : offsets[j + 1]]
            if self.tauf == 0 and len(X) > 256:
                out[offsets[j] : offsets[j + 1]] = rho * X + self._hardmax_mean_float(X) @ V.T
            else:
                out[offsets[j] : offsets[j + 1]] = rho * X + (self.weights_float(X, dtype) @ X) @ V.T
        return out

    def _hardmax_mean_float(self, X: np.ndarray) -> np.ndarray:
        """Float hardmax averages (ties by float ==) in O(n k) when keys of largest norm dominate.

        Rows whose best score over the k largest-norm keys beats |q_i| times every other key's
        norm (Cauchy-Schwarz, with a relative margin) cannot have a maximiser elsewhere; the
        remaining rows are computed in full. Same result as the dense rule.
        """
        A, B = X @ self.Qf.astype(X.dtype).T, X @ self.Kf.astype(X.dtype).T
        n = len(X)
        bn = np.sqrt((B * B).sum(axis=1))
        order = np.argsort(-bn, kind="stable")
        k = min(n, 64)
        cand, rest = order[:k], (bn[order[k]] if k < n else 0.0)
        Sc = A @ B[cand].T
        m = Sc.max(axis=1)
        an = np.sqrt((A * A).sum(axis=1))
        tol = 64 * np.finfo(X.dtype).eps
        ok = m > an * rest * (1 + tol) + tol * an * bn.max() + 1e-300
        out = np.empty_like(X)
        hit = Sc == m[:, None]
        w = hit / hit.sum(axis=1, keepdims=True)
        out[ok] = w[ok] @ X[cand]
        for c0 in np.nonzero(~ok)[0]:
            s = A[c0] @ B.T
            sel = s == s.max()
            out[c0] = X[sel].mean(axis=0)
        return out

    # ------------------------------------------------------------------ exact
    def maximisers(self, st: State, j: int) -> list[tuple[int, ...]]:
        """Exact hardmax maximiser sets (global row indices) of every token of sequence j."""
        return maximiser_sets(self, st, j)

    def mix(self, x: np.ndarray, avg: np.ndarray) -> np.ndarray:
        """``rho x + V avg`` exactly (V a scalar multiple of I is applied as a scalar)."""
        v = avg * self._v_scalar if self._v_scalar is not None else self.V.dot(avg)
        return x * self.rho + v if self.rho != 0 else v

    def apply(self, st: State, inplace: bool = False) -> State:
        """Exact forward (hardmax exactly; softmax as rigorous balls); on a copy unless ``inplace``."""
        if self.kind == "skip":
            if self.rho == 1:
                return st
            out = st if inplace else st.copy()
            out.set_rows(np.arange(st.n_total), st.E * self.rho)
            return out
        if self.tau != 0 and self.kind != "mean":
            out = st if inplace else st.copy()
            apply_softmax(self, st, out)
            return out
        out = st if inplace else st.copy()  # rows are written after all are computed
        if st.n_total == 0:
            return out
        if self.kind == "mean":  # every score ties: one mean per sequence, all sequences at once
            rows = self._mean_rows(st.E, np.asarray(st.offsets, dtype=np.int64))
        else:
            rows = np.empty_like(st.E)
            for j in range(st.num_sequences):
                sl = st.seq_slice(j)
                rows[sl] = self._hardmax_rows(st.E, sl.start, st.E[sl], maximiser_sets(self, st, j))
        out.set_rows(np.arange(st.n_total), rows, exact=not st.R.any())
        return out

    def _mean_rows(self, E: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """``rho x_i + V mean(X^j)`` for every token of every sequence (exact segment sums)."""
        lengths = np.diff(offsets)
        keep = np.flatnonzero(lengths)
        sums = np.add.reduceat(E, offsets[keep], axis=0)
        scale = np.array([ONE / int(n) for n in lengths[keep]], dtype=object)[:, None]
        means = np.where(lengths[keep, None] > 1, sums * scale, sums)  # one token: its own value
        v = means * self._v_scalar if self._v_scalar is not None else means.dot(self.V.T)
        v = np.repeat(v, lengths[keep], axis=0)
        return v if self.rho == 0 else E * self.rho + v

    def _mixed(self, X: np.ndarray, avg: np.ndarray) -> np.ndarray:
        """``rho x + V avg`` for every row x of ``X`` (one average)."""
        v = avg * self._v_scalar if self._v_scalar is not None else self.V.dot(avg)
        if self.rho == 0:
            return np.tile(v, (len(X), 1))
        return X * self.rho + v

    def _hardmax_rows(self, E: np.ndarray, start: int, X: np.ndarray, sets: list[tuple[int, ...]]) -> np.ndarray:
        """Rows of one sequence: tokens sharing a maximiser set C share its mean (computed once)."""
        by_id: dict[int, list[int]] = {}  # the same tuple object: no need to hash it again
        by_set: dict[tuple[int, ...], list[int]] = {}
        for r, C in enumerate(sets):
            members = by_id.get(id(C))
            if members is None:
                members = by_id[id(C)] = by_set.setdefault(C, [])
            members.append(r)
        rows = np.empty(X.shape, dtype=object)
        for C, members in by_set.items():
            avg = E[list(C)].sum(axis=0) * (ONE / len(C)) if len(C) > 1 else E[C[0]]
            rows[members] = self._mixed(X[members], avg)
        return rows

    def to_dict(self) -> dict:
        def mat(a):
            return [[q_to_str(v) for v in row] for row in a]

        return {
            "rho": q_to_str(self.rho),
            "tau": q_to_str(self.tau),
            "Q": mat(self.Q),
            "K": mat(self.K),
            "V": mat(self.V),
        }

    @classmethod
    def from_dict(cls, d: dict, dim: int) -> SelfAttention:
        Qm = q_matrix(d["Q"]) if len(d["Q"]) else np.empty((0, dim), dtype=object)
        Km = q_matrix(d["K"]) if len(d["K"]) else np.empty((0, dim), dtype=object)
        for name, m in (("Q", Qm), ("K", Km)):
            if m.shape[1] != dim:
                raise LayerError(f"{name} has {m.shape[1]} columns, expected d = {dim}")
        return cls(Q=Qm, K=Km, V=q_matrix(d["V"], shape=(dim, dim)), rho=d["rho"], tau=d["tau"])
