"""The feed-forward layer ``FF(x) = eta x + W relu(U x + b)``, token-wise, with an exact and a float forward.

Exact evaluation never decides anything in floating point: a float64 shadow proposes on which side
of each ReLU kink a token lies, exact arithmetic confirms it near a kink (filtered predicates). An FF
layer is affine on each activation pattern, so tokens sharing a pattern share one exact affine map;
patterns with the identity map cost nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import LayerError
from .numbers import (
    ONE,
    ZERO,
    exact_dot,
    is_zero,
    layer_matrix,
    parameter_count,
    q_matrix,
    q_to_str,
    q_vector,
    row_key,
    to_float_array,
    to_q,
)
from .state import FILTER_SLACK, State, certain_sign, relu_ball

__all__ = ["FeedForward"]

_U = FILTER_SLACK


@dataclass(eq=False)
class _Group:
    """Neurons k of one FF sharing the row u = U[k]: kinks at t = -b_k, affine pieces in t = <u, x>.

    Segment s (0..K) holds the t with exactly s kinks strictly below t (a neuron is active iff
    t > -b_k). On segment s the group adds ``alpha[s] * t + beta[s]`` (vectors in Q^d).
    """

    u: np.ndarray
    uf: np.ndarray
    u1: float
    th: list  # exact sorted distinct kinks
    thf: np.ndarray
    alpha: list
    beta: list
    alpha_nz: np.ndarray
    zero: np.ndarray

    @classmethod
    def build(cls, ff: FeedForward, ks: list[int]) -> _Group:
        u = ff.U[ks[0]]
        kinks = sorted({-ff.b[k] for k in ks})
        alpha, beta, anz, zero = [], [], [], []
        d = ff.d
        for s in range(len(kinks) + 1):
            act = [k for k in ks if s > 0 and -ff.b[k] <= kinks[s - 1]]
            a = np.full(d, ZERO, dtype=object)
            c = np.full(d, ZERO, dtype=object)
            for k in act:
                a = a + ff.W[:, k]
                c = c + ff.W[:, k] * ff.b[k]
            if is_zero(u):  # a constant neuron: t = 0 always
                a = np.full(d, ZERO, dtype=object)
            alpha.append(a)
            beta.append(c)
            anz.append(not is_zero(a))
            zero.append(is_zero(a) and is_zero(c))
        uf = to_float_array(u)
        return cls(
            u=u,
            uf=uf,
            u1=float(np.abs(uf).sum()),
            th=kinks,
            thf=np.array([float(v) for v in kinks]),
            alpha=alpha,
            beta=beta,
            alpha_nz=np.array(anz),
            zero=np.array(zero),
        )

    def segment(self, t: Any) -> int | None:
        """Exact segment of t (None for a ball straddling a kink)."""
        s = 0
        for k in self.th:
            diff = t - k
            sign = certain_sign(diff)
            if sign is None:
                return None
            if sign > 0:
                s += 1
            else:
                break
        return s


@dataclass(eq=False)
class FeedForward:
    """Token-wise ``eta x + W relu(U x + b)``; U: w×d, b: w, W: d×w (exact rationals).

    Neurons sharing a row of U form a group: on each group the layer is piecewise linear in <u, x>.
    """

    U: np.ndarray
    b: np.ndarray
    W: np.ndarray
    eta: Any = ONE
    _cache: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.eta = to_q(self.eta)
        self.b = q_vector(list(self.b))
        w = len(self.b)
        self.U = layer_matrix(self.U, rows=w, name="U")
        d = self.U.shape[1]
        self.W = layer_matrix(self.W, rows=d, name="W", cols=w)
        if self.U.shape != (w, d):
            raise LayerError(f"U has shape {self.U.shape}, expected ({w}, {d})")
        self.width, self.d = w, d  #: hidden width (rows of U); token dimension
        self.Uf, self.bf, self.Wf = (to_float_array(a) for a in (self.U, self.b, self.W))
        self.etaf = float(self.eta)

    @classmethod
    def identity(cls, d: int) -> FeedForward:
        """The identity FF (width 0, eta = 1)."""
        return cls(U=np.empty((0, d), dtype=object), b=[], W=np.empty((d, 0), dtype=object))

    @property
    def is_identity(self) -> bool:
        return self.eta == 1 and (self.width == 0 or is_zero(self.W))

    def num_parameters(self, dense: bool = False) -> int:
        """Nonzero entries (or all entries if ``dense``) of U, b, W, eta."""
        return parameter_count((self.U, self.b, self.W), self.eta, dense)

    # float forward (float64 by default; float32 rounds the weights too)
    def forward_float(self, F: np.ndarray, dtype: Any = np.float64) -> np.ndarray:
        """Float forward in ``dtype`` (weights rounded to ``dtype``)."""
        F = np.asarray(F, dtype=dtype)
        eta = dtype(self.etaf)
        if self.width == 0:
            return eta * F
        U, b, W = (a.astype(dtype) for a in (self.Uf, self.bf, self.Wf))
        return eta * F + np.maximum(F @ U.T + b, dtype(0)) @ W.T

    # exact forward
    def _groups(self) -> list[_Group]:
        """Neurons grouped by equal U rows: on each group the FF is piecewise linear in t = <u, x>."""
        if "groups" not in self._cache:
            by_row: dict[tuple, list[int]] = {}
            for k in range(self.width):
                by_row.setdefault(row_key(self.U[k]), []).append(k)
            self._cache["groups"] = [_Group.build(self, ks) for ks in by_row.values()]
        return self._cache["groups"]

    def _affine_piece(self, key: tuple) -> tuple[np.ndarray | None, np.ndarray]:
        """(A, c) of ``x -> A x + c`` on a combination of group segments (A None: A = eta I)."""
        hit = self._cache.get(key)
        if hit is None:
            groups = self._groups()
            d = self.d
            c = np.full(d, ZERO, dtype=object)
            A = None
            for gi, sg in key:
                g = groups[gi]
                c = c + g.beta[sg]
                if g.alpha_nz[sg]:
                    if A is None:
                        A = np.full((d, d), ZERO, dtype=object)
                        for r in range(d):
                            A[r, r] = self.eta
                    A = A + np.outer(g.alpha[sg], g.u)
            hit = self._cache[key] = (A, c)
        return hit

    def apply(self, st: State, inplace: bool = False) -> State:
        """Exact forward on every token of ``st`` (on a copy unless ``inplace``).

        For each group of neurons sharing a direction u, the float64 shadow locates t = <u, x> among
        the group's kinks; a token within the float error of a kink is located exactly. A group whose
        segment contributes nothing (both sides of a bump, say) costs no exact work, so a token far
        from every kink with eta = 1 is left untouched. Ball tokens whose segment is uncertain are
        evaluated with ball ReLUs.
        """
        st = st if inplace else st.copy()
        if self.width == 0:
            if self.eta != 1:
                st.set_rows(np.arange(st.n_total), st.E * self.eta, exact=not st.R.any())
            return st
        groups = self._groups()
        seg, ball_rows = self._segments(st, groups)
        nonzero = np.zeros(seg.shape, dtype=bool)
        for gi, g in enumerate(groups):
            nonzero[:, gi] = ~g.zero[seg[:, gi]]
        work = np.nonzero(nonzero.any(axis=1) | (self.eta != 1))[0]
        if ball_rows:
            work = np.array([i for i in work if i not in ball_rows], dtype=int)
        if len(work):
            self._apply_affine(st, work, seg, nonzero)
        for i in sorted(ball_rows):
            self._apply_ball_row(st, i)
        return st

    def _segments(self, st: State, groups: list[_Group]) -> tuple[np.ndarray, set[int]]:
        """Segment of every token in every group (float filter, exact near kinks); rows of straddling balls."""
        n, F = st.n_total, st.F
        seg = np.zeros((n, len(groups)), dtype=np.int64)
        amb = np.ones((n, len(groups)), dtype=bool)
        if bool(np.all(np.isfinite(F))) and np.abs(F).max(initial=0) <= 1e150:
            slack = np.abs(F).max(axis=1, initial=0.0) * _U + st.R * (1 + _U)
            absF = np.abs(F)
            for gi, g in enumerate(groups):
                t = F @ g.uf
                err = slack * g.u1 + _U * (absF @ np.abs(g.uf)) + 1e-300
                seg[:, gi] = np.searchsorted(g.thf, t, "left")
                lo = np.where(seg[:, gi] > 0, g.thf[np.maximum(seg[:, gi] - 1, 0)], -np.inf)
                hi = np.where(seg[:, gi] < len(g.thf), g.thf[np.minimum(seg[:, gi], len(g.thf) - 1)], np.inf)
                near_lo = np.isfinite(lo) & (t - lo <= err + _U * np.abs(np.where(np.isfinite(lo), lo, 0.0)))
                near_hi = np.isfinite(hi) & (hi - t <= err + _U * np.abs(np.where(np.isfinite(hi), hi, 0.0)))
                amb[:, gi] = near_lo | near_hi
        ball_rows: set[int] = set()
        for rep, members in st.copy_groups(np.nonzero(amb.any(axis=1))[0]):
            for gi in np.nonzero(amb[rep])[0]:
                s = groups[gi].segment(exact_dot(groups[gi].u, st.E[rep]))
                if s is None:
                    ball_rows.update(int(m) for m in members)
                    break
                seg[members, gi] = s
        return seg, ball_rows

    def _apply_affine(self, st: State, work: np.ndarray, seg: np.ndarray, nonzero: np.ndarray) -> None:
        """Rows ``work``: the FF is affine on each combination of segments, x -> A x + c (exact).

        One product per combination; A has zero rows where a snap flattens, so balls land exactly.
        """
        cgroups = st.copy_groups(work)
        reps = np.array([r for r, _ in cgroups], dtype=int)
        by_key: dict[tuple, list[int]] = {}
        for r, i in enumerate(reps):
            by_key.setdefault(tuple((int(gi), int(seg[i, gi])) for gi in np.nonzero(nonzero[i])[0]), []).append(r)
        new = np.empty((len(reps), self.d), dtype=object)
        for k, rs in by_key.items():
            A, c = self._affine_piece(k)
            X = st.E[reps[rs]]
            if A is None:
                new[rs] = np.tile(c, (len(rs), 1)) if self.eta == 0 else X * self.eta + c
            else:
                new[rs] = X.dot(A.T) + c
                for r in range(self.d):  # a flattened coordinate is exactly c_r, even for a ball
                    if is_zero(A[r]):
                        new[rs, r] = c[r]
        st.set_rows(reps, new, exact=not st.R[reps].any())
        st.broadcast(cgroups)

    def _apply_ball_row(self, st: State, i: int) -> None:
        """A ball straddling a ReLU kink: evaluate the layer with ball ReLUs."""
        x = st.E[i]
        h = np.array([relu_ball(exact_dot(self.U[k], x) + self.b[k]) for k in range(self.width)], dtype=object)
        new = np.array([self.eta * x[r] + exact_dot(self.W[r], h) for r in range(self.d)], dtype=object)
        st.set_rows(np.array([i]), new[None, :])

    def to_dict(self) -> dict:
        return {
            "eta": q_to_str(self.eta),
            "U": [[q_to_str(v) for v in row] for row in self.U],
            "b": [q_to_str(v) for v in self.b],
            "W": [[q_to_str(v) for v in row] for row in self.W],
        }

    @classmethod
    def from_dict(cls, d: dict, dim: int) -> FeedForward:
        U = d["U"]
        w = len(d["b"])
        U = q_matrix(U, shape=(w, dim)) if w else np.empty((0, dim), dtype=object)
        W = q_matrix(d["W"], shape=(dim, w)) if w else np.empty((dim, 0), dtype=object)
        return cls(U=U, b=d["b"], W=W, eta=d["eta"])
