"""Transformer layers (DESIGN §3) with an exact and a float64 forward.

* ``FeedForward``: ``FF(x) = eta x + W relu(U x + b)``, token-wise.
* ``SelfAttention``: ``SA(X)_i = rho x_i + V sum_j a_ij x_j``, scores ``<Q x_i, K x_j>``;
  ``tau = 0`` is hardmax (uniform over *all* exact maximisers), ``tau > 0`` softmax.
* ``Block``: ``SA ∘ FF`` (feed-forward first, the paper's Figure 3).

Exact evaluation never decides anything in floating point: a float64 shadow proposes, exact
arithmetic confirms (filtered predicates). An FF layer is affine on each activation pattern, so
tokens sharing a pattern share one exact affine map; patterns with the identity map cost nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import flint
import numpy as np

from .numbers import ONE, ZERO, Q, q_matrix, q_to_str, q_vector, row_key, to_float_array, to_q
from .state import BALL_PREC, State

__all__ = ["FeedForward", "SelfAttention", "Block", "LayerError"]

_U = 2.0**-40  # relative slack of the float filters (far above float64 rounding)


class LayerError(ValueError):
    """Inconsistent layer parameters (shapes, values)."""


def _nnz(*arrays: np.ndarray) -> int:
    return int(sum(sum(1 for v in np.ravel(a) if v != 0) for a in arrays))


def _is_zero(a: np.ndarray) -> bool:
    return all(v == 0 for v in np.ravel(a))


def _relu_ball(v: Any) -> Any:
    if isinstance(v, flint.arb):
        if v > 0:
            return v
        if v < 0 or v == 0:
            return ZERO
        hi = v.upper()
        return flint.arb(hi / 2, hi / 2)  # encloses [0, hi]
    return v if v > 0 else ZERO


def _exact_dot(row: np.ndarray, x: np.ndarray) -> Any:
    s = ZERO
    for a, v in zip(row, x, strict=True):
        if a != 0:
            s = s + a * v
    return s


def _all_copies(E: np.ndarray, F: np.ndarray, R: np.ndarray, rows: np.ndarray) -> bool:
    """True when all ``rows`` hold the same exact rational value (float rows filter first)."""
    r0 = rows[0]
    if R[r0] > 0 or not np.all(F[rows] == F[r0]):
        return False
    return all(R[r] == 0 and all(a == b for a, b in zip(E[r], E[r0], strict=True)) for r in rows[1:])


def _certain_sign(v: Any) -> int | None:
    """+1/-1/0 if certain (0 means exactly zero), None for a ball straddling 0."""
    if isinstance(v, flint.arb):
        if v > 0:
            return 1
        if v < 0:
            return -1
        if v == 0:
            return 0
        return None
    return (v > 0) - (v < 0)


# ----------------------------------------------------------------------------- feed-forward


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
            if _is_zero(u):  # a constant neuron: t = 0 always
                a = np.full(d, ZERO, dtype=object)
            alpha.append(a)
            beta.append(c)
            anz.append(not _is_zero(a))
            zero.append(_is_zero(a) and _is_zero(c))
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
            sign = _certain_sign(diff)
            if sign is None:
                return None
            if sign > 0:
                s += 1
            else:
                break
        return s


@dataclass(eq=False)
class FeedForward:
    """Token-wise ``eta x + W relu(U x + b)``; U: w×d, b: w, W: d×w (exact rationals)."""

    U: np.ndarray
    b: np.ndarray
    W: np.ndarray
    eta: Any = ONE
    _cache: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.eta = to_q(self.eta)
        self.b = q_vector(list(self.b))
        w = len(self.b)
        self.U = _as_q_matrix(self.U, rows=w, name="U")
        d = self.U.shape[1]
        self.W = _as_q_matrix(self.W, rows=d, name="W", cols=w)
        if self.U.shape != (w, d):
            raise LayerError(f"U has shape {self.U.shape}, expected ({w}, {d})")
        self.Uf, self.bf, self.Wf = (to_float_array(a) for a in (self.U, self.b, self.W))
        self.etaf = float(self.eta)

    @classmethod
    def identity(cls, d: int) -> FeedForward:
        """The identity FF (width 0, eta = 1)."""
        return cls(U=np.empty((0, d), dtype=object), b=[], W=np.empty((d, 0), dtype=object))

    @property
    def d(self) -> int:
        return self.U.shape[1]

    @property
    def width(self) -> int:
        return self.U.shape[0]

    @property
    def is_identity(self) -> bool:
        return self.eta == 1 and (self.width == 0 or _is_zero(self.W))

    def num_parameters(self, dense: bool = False) -> int:
        """Nonzero entries (or all entries if ``dense``) of U, b, W, eta."""
        if dense:
            return self.U.size + self.b.size + self.W.size + 1
        return _nnz(self.U, self.b, self.W) + (self.eta != 0)

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
        n = st.n_total
        if self.width == 0:
            if self.eta != 1:
                st.set_rows(np.arange(n), st.E * self.eta, exact=not st.R.any())
            return st
        groups = self._groups()
        F = st.F
        finite = bool(np.all(np.isfinite(F))) and np.abs(F).max(initial=0) <= 1e150
        seg = np.zeros((n, len(groups)), dtype=np.int64)
        amb = np.ones((n, len(groups)), dtype=bool)
        if finite:
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
                s = groups[gi].segment(_exact_dot(groups[gi].u, st.E[rep]))
                if s is None:
                    ball_rows.update(int(m) for m in members)
                    break
                seg[members, gi] = s
        nonzero = np.zeros((n, len(groups)), dtype=bool)
        for gi, g in enumerate(groups):
            nonzero[:, gi] = ~g.zero[seg[:, gi]]
        work = np.nonzero(nonzero.any(axis=1) | (self.eta != 1))[0]
        if ball_rows:
            work = np.array([i for i in work if i not in ball_rows], dtype=int)
        if len(work):
            # the FF is affine on each combination of segments: x -> A x + c with A, c exact (one
            # product per combination; A has zero rows where a snap flattens, so balls land exactly)
            cgroups = st.copy_groups(work)
            reps = np.array([r for r, _ in cgroups], dtype=int)
            keys = [tuple((int(gi), int(seg[i, gi])) for gi in np.nonzero(nonzero[i])[0]) for i in reps]
            by_key: dict[tuple, list[int]] = {}
            for r, k in enumerate(keys):
                by_key.setdefault(k, []).append(r)
            new = np.empty((len(reps), self.d), dtype=object)
            for k, rs in by_key.items():
                A, c = self._affine_piece(k)
                X = st.E[reps[rs]]
                if A is None:
                    new[rs] = np.tile(c, (len(rs), 1)) if self.eta == 0 else X * self.eta + c
                else:
                    new[rs] = X.dot(A.T) + c
                    for r in range(self.d):  # a flattened coordinate is exactly c_r, even for a ball
                        if _is_zero(A[r]):
                            new[rs, r] = c[r]
            st.set_rows(reps, new, exact=not st.R[reps].any())
            st.broadcast(cgroups)
        for i in sorted(ball_rows):  # a ball straddles a ReLU kink: evaluate with ball ReLUs
            x = st.E[i]
            h = [_relu_ball(_exact_dot(self.U[k], x) + self.b[k]) for k in range(self.width)]
            new = np.array(
                [self.eta * x[r] + _exact_dot(self.W[r], np.array(h, dtype=object)) for r in range(self.d)],
                dtype=object,
            )
            st.set_rows(np.array([i]), new[None, :])
        return st

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


def _as_q_matrix(a: Any, rows: int, name: str, cols: int | None = None) -> np.ndarray:
    if isinstance(a, np.ndarray) and a.dtype == object and a.ndim == 2:
        out = a
    else:
        lst = [list(r) for r in a]
        if len(lst) == 0:
            return np.empty((0, cols or 0), dtype=object)
        out = q_matrix(lst)
    if out.shape[0] != rows:
        raise LayerError(f"{name} has {out.shape[0]} rows, expected {rows}")
    if cols is not None and out.shape[1] != cols:
        raise LayerError(f"{name} has {out.shape[1]} columns, expected {cols}")
    return out


# ----------------------------------------------------------------------------- self-attention


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
        self.V = _as_q_matrix(self.V, rows=len(self.V), name="V")
        d = self.V.shape[0]
        if self.V.shape != (d, d):
            raise LayerError(f"V has shape {self.V.shape}, expected ({d}, {d})")
        self.Q = _as_q_matrix(self.Q, rows=len(self.Q), name="Q", cols=d)
        self.K = _as_q_matrix(self.K, rows=len(self.K), name="K", cols=d)
        if self.Q.shape != self.K.shape:
            raise LayerError(f"Q {self.Q.shape} and K {self.K.shape} differ in shape")
        self.Qf, self.Kf, self.Vf = (to_float_array(a) for a in (self.Q, self.K, self.V))
        self.rhof, self.tauf = float(self.rho), float(self.tau)
        zero_v = _is_zero(self.V)
        zero_scores = self.Q.shape[0] == 0 or _is_zero(self.Q) or _is_zero(self.K)
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
        z = np.full((1, d), ZERO, dtype=object)
        return cls(Q=z, K=z.copy(), V=np.full((d, d), ZERO, dtype=object), rho=ONE, tau=tau)

    @property
    def d(self) -> int:
        return self.V.shape[0]

    @property
    def h(self) -> int:
        return self.Q.shape[0]

    @property
    def is_hardmax(self) -> bool:
        return self.tau == 0

    @property
    def is_identity(self) -> bool:
        return self.kind == "skip" and self.rho == 1

    def num_parameters(self, dense: bool = False) -> int:
        """Nonzero entries (or all entries) of Q, K, V, rho (tau is a fixed hyper-parameter)."""
        if dense:
            return self.Q.size + self.K.size + self.V.size + 1
        return _nnz(self.Q, self.K, self.V) + (self.rho != 0)

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
        """Float forward of one sequence (n, d) in ``dtype`` (float64 by default)."""
        X = np.asarray(X, dtype=dtype)
        if self.kind == "skip":
            return dtype(self.rhof) * X
        V = self.Vf.astype(dtype)
        if self.kind == "mean":
            return dtype(self.rhof) * X + X.mean(axis=0) @ V.T
        if self.tauf == 0 and len(X) > 256:
            return dtype(self.rhof) * X + self._hardmax_mean_float(X) @ V.T
        return dtype(self.rhof) * X + (self.weights_float(X, dtype) @ X) @ V.T

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
        sl = st.seq_slice(j)
        idx = np.arange(sl.start, sl.stop)
        n = len(idx)
        if self.kind in ("skip", "mean"):
            return [tuple(int(v) for v in idx)] * n
        E, F = st.E[sl], st.F[sl]
        scale = 1.0 + np.abs(F).max(initial=0.0) + st.R[sl].max(initial=0.0)
        if self.kind == "rank1":
            return self._maximisers_rank1(E, F, st.R[sl], idx, scale)
        return self._maximisers_general(E, F, st.R[sl], idx, scale)

    def _exact_proj(self, M: np.ndarray, x: np.ndarray) -> np.ndarray:
        return np.array([_exact_dot(row, x) for row in M], dtype=object)

    def _extreme_set(self, vals_f: np.ndarray, err: np.ndarray, E, M, top: bool) -> list[int]:
        """Exact argmax (top) or argmin set of <M x_j> (h = 1), via a float filter."""
        if top:
            m = vals_f.max()
            cand = np.nonzero(vals_f + err >= m - err.max())[0]
        else:
            m = vals_f.min()
            cand = np.nonzero(vals_f - err <= m + err.max())[0]
        exact = [_exact_dot(M[0], E[c]) for c in cand]
        best = max(exact) if top else min(exact)
        if any(isinstance(v, flint.arb) for v in exact):
            tied = [c for c, v in zip(cand, exact, strict=True) if (v == best) or v.overlaps(best)]
            if len(tied) > 1 and not all(v == best for v in exact if v.overlaps(best)):
                raise ArithmeticError("ball arithmetic cannot decide a hardmax maximiser")
            return tied
        return [int(c) for c, v in zip(cand, exact, strict=True) if v == best]

    def _maximisers_rank1(self, E, F, R, idx, scale) -> list[tuple[int, ...]]:
        q, k = self.Qf[0], self.Kf[0]
        a_f, b_f = F @ q, F @ k
        slack = np.abs(F).max(axis=1, initial=0.0) * _U + R * (1 + _U)
        err_a = slack * np.abs(q).sum() + _U * (np.abs(F) @ np.abs(q))
        err_b = slack * np.abs(k).sum() + _U * (np.abs(F) @ np.abs(k))
        top = tuple(sorted(int(v) for v in idx[self._extreme_set(b_f, err_b, E, self.K, True)]))
        bot = tuple(sorted(int(v) for v in idx[self._extreme_set(b_f, err_b, E, self.K, False)]))
        every = tuple(int(v) for v in idx)
        out = []
        for i in range(len(idx)):
            if a_f[i] > err_a[i]:
                out.append(top)
            elif a_f[i] < -err_a[i]:
                out.append(bot)
            else:
                s = _certain_sign(_exact_dot(self.Q[0], E[i]))
                if s is None:
                    raise ArithmeticError("ball arithmetic cannot decide the sign of a query")
                out.append(top if s > 0 else bot if s < 0 else every)
        return out

    def _maximisers_general(self, E, F, R, idx, scale) -> list[tuple[int, ...]]:
        n = len(idx)
        A = F @ self.Qf.T  # (n, h) queries
        B = F @ self.Kf.T  # (n, h) keys
        amax = 1.0 + np.abs(A).max(initial=0.0)
        bmax = 1.0 + np.abs(B).max(initial=0.0)
        qn = 1.0 + np.abs(self.Qf).sum(axis=1).max()
        kn = 1.0 + np.abs(self.Kf).sum(axis=1).max()
        rad = R.max(initial=0.0) * (1 + _U) + scale * _U
        err = self.h * (_U * amax * bmax + rad * (qn * bmax + kn * amax) + rad * rad * qn * kn)
        err = 4 * err + 1e-300
        # candidates: keys of largest norm; rows whose best candidate beats every other key's
        # Cauchy-Schwarz bound are certified without the full row
        bnorm = np.sqrt((B * B).sum(axis=1))
        order = np.argsort(-bnorm, kind="stable")
        kc = min(n, 32)
        cand, rest_norm = order[:kc], (bnorm[order[kc]] if kc < n else -np.inf)
        anorm = np.sqrt((A * A).sum(axis=1))
        Sc = A @ B[cand].T
        best_c = Sc.max(axis=1)
        cert = best_c - err > anorm * rest_norm + err if kc < n else np.ones(n, dtype=bool)
        qx: dict[int, np.ndarray] = {}
        kx: dict[int, np.ndarray] = {}
        out: list[tuple[int, ...]] = []
        full_rows = np.nonzero(~cert)[0]
        S_full = {}
        for c0 in range(0, len(full_rows), 256):
            rows = full_rows[c0 : c0 + 256]
            blk = A[rows] @ B.T
            for r, i in enumerate(rows):
                S_full[int(i)] = blk[r]
        for i in range(n):
            if i in S_full:
                row, cols = S_full[i], np.arange(n)
            else:
                row, cols = Sc[i], cand
            m = row.max()
            near = cols[row >= m - 2 * err]
            if len(near) == 1 or _all_copies(E, F, R, near):
                # every candidate is an exact copy of one value: they tie exactly, no score needed
                out.append(tuple(sorted(int(v) for v in idx[near])))
                continue
            if i not in qx:
                qx[i] = self._exact_proj(self.Q, E[i])
            vals = []
            for jj in near:
                jj = int(jj)
                if jj not in kx:
                    kx[jj] = self._exact_proj(self.K, E[jj])
                vals.append(_exact_dot(qx[i], kx[jj]))
            best = max(vals) if not any(isinstance(v, flint.arb) for v in vals) else None
            if best is None:
                # ball case: the maximiser must be certain
                tops = [jj for jj, v in zip(near, vals, strict=True) if all(not (w > v) for w in vals)]
                if len(tops) != 1 and not all(vals[0] == v for v in vals):
                    raise ArithmeticError("ball arithmetic cannot decide a hardmax maximiser")
                sel = tops
            else:
                sel = [int(jj) for jj, v in zip(near, vals, strict=True) if v == best]
            out.append(tuple(sorted(int(v) for v in idx[np.array(sel, dtype=int)])))
        return out

    def _mix(self, x: np.ndarray, avg: np.ndarray) -> np.ndarray:
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
            return self._apply_softmax(st, inplace)
        out = st if inplace else st.copy()  # rows of a sequence are written after all are computed
        for j in range(st.num_sequences):
            sl = st.seq_slice(j)
            sets = self.maximisers(st, j)
            means: dict[tuple[int, ...], np.ndarray] = {}
            mixed: dict[tuple[int, ...], np.ndarray] = {}  # rho = 0: the output depends on C only
            rows = np.empty((sl.stop - sl.start, st.d), dtype=object)
            for r, (i, C) in enumerate(zip(range(sl.start, sl.stop), sets, strict=True)):
                if C not in means:
                    tot = st.E[list(C)].sum(axis=0) if len(C) > 1 else st.E[C[0]]
                    means[C] = tot * (ONE / len(C)) if len(C) > 1 else tot
                if self.rho == 0:
                    if C not in mixed:
                        mixed[C] = self._mix(st.E[i], means[C])
                    rows[r] = mixed[C]
                else:
                    rows[r] = self._mix(st.E[i], means[C])
            out.set_rows(np.arange(sl.start, sl.stop), rows, exact=not st.R[sl].any())
        return out

    # ------------------------------------------------------------------ softmax, rigorous
    def _apply_softmax(self, st: State, inplace: bool = False) -> State:
        """Softmax layer in ball arithmetic: rigorous enclosures of the exact real outputs."""
        out = st if inplace else st.copy()
        old = flint.ctx.prec
        flint.ctx.prec = BALL_PREC
        try:
            inv_tau = flint.arb(ONE / self.tau)
            for j in range(st.num_sequences):
                sl = st.seq_slice(j)
                E = st.E[sl]
                if all(isinstance(v, Q) for v in E.ravel()):
                    rows = self._softmax_enclosure(st, j, inv_tau)
                else:
                    rows = self._softmax_direct(E, inv_tau)
                out.set_rows(np.arange(sl.start, sl.stop), rows)
        finally:
            flint.ctx.prec = old
        return out

    def _softmax_direct(self, E: np.ndarray, inv_tau) -> np.ndarray:
        n = len(E)
        qx = [self._exact_proj(self.Q, E[i]) for i in range(n)]
        kx = [self._exact_proj(self.K, E[i]) for i in range(n)]
        rows = np.empty((n, self.d), dtype=object)
        for i in range(n):
            s = [
                flint.arb(_exact_dot(qx[i], kx[k]))
                if not isinstance(_exact_dot(qx[i], kx[k]), flint.arb)
                else _exact_dot(qx[i], kx[k])
                for k in range(n)
            ]
            m = max(float(v.mid()) for v in s)
            w = [((v - m) * inv_tau).exp() for v in s]
            tot = sum(w[1:], w[0])
            avg = np.array(
                [sum((w[k] * E[k, c] for k in range(1, n)), w[0] * E[0, c]) / tot for c in range(self.d)],
                dtype=object,
            )
            rows[i] = self._mix(E[i], avg)
        return rows

    def _softmax_enclosure(self, st: State, j: int, inv_tau) -> np.ndarray:
        """Temperature-lemma enclosure: hardmax output ± ‖V‖ p_i diam, p_i ≤ (n-|C|)/|C| e^{-γ/τ}.

        Exact scores come from one flint matrix product (C speed); rows sharing a maximiser set
        share their exact mean.
        """
        sl = st.seq_slice(j)
        E = st.E[sl]
        n = len(E)
        sets = self.maximisers(st, j)
        d, h = self.d, self.h
        Xm = flint.fmpq_mat(n, d, list(E.ravel()))
        Qm = flint.fmpq_mat(h, d, list(self.Q.ravel()))
        Km = flint.fmpq_mat(h, d, list(self.K.ravel()))
        S = ((Xm * Qm.transpose()) * (Xm * Km.transpose()).transpose()).entries()
        lo = np.array([min(E[:, c]) for c in range(d)], dtype=object)
        hi = np.array([max(E[:, c]) for c in range(d)], dtype=object)
        spread = hi - lo  # |x_k - mean_C| <= hi - lo per coordinate
        vspread = [flint.arb(v) for v in np.abs(self.V).dot(spread)]
        means: dict[tuple[int, ...], np.ndarray] = {}
        rows = np.empty((n, d), dtype=object)
        for i in range(n):
            C = sets[i]
            if C not in means:
                loc = [c - sl.start for c in C]
                means[C] = E[loc].sum(axis=0) * (ONE / len(loc))
            mid = self._mix(E[i], means[C])
            if len(C) == n:
                rows[i] = mid
                continue
            row = S[i * n : (i + 1) * n]
            top = row[C[0] - sl.start]
            gap = top - max(v for v in row if v < top)
            p = flint.arb(to_q(n - len(C)) / len(C)) * (-(flint.arb(gap) * inv_tau)).exp()
            p = min(p.upper(), flint.arb(1).upper())
            rows[i] = np.array(
                [flint.arb(mid[c]) + flint.arb(0, (vspread[c] * p).upper()) for c in range(d)],
                dtype=object,
            )
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


# ----------------------------------------------------------------------------- block


@dataclass(eq=False)
class Block:
    """``SA ∘ FF``: the feed-forward layer first, then self-attention (the paper's Figure 3)."""

    ff: FeedForward
    sa: SelfAttention

    def __post_init__(self) -> None:
        if self.ff.d != self.sa.d:
            raise LayerError(f"FF acts on d = {self.ff.d} but SA on d = {self.sa.d}")

    @classmethod
    def identity(cls, d: int) -> Block:
        return cls(FeedForward.identity(d), SelfAttention.identity(d))

    @property
    def d(self) -> int:
        return self.ff.d

    @property
    def is_identity(self) -> bool:
        return self.ff.is_identity and self.sa.is_identity

    def num_parameters(self, dense: bool = False) -> int:
        return self.ff.num_parameters(dense) + self.sa.num_parameters(dense)

    def apply(self, st: State, inplace: bool = False) -> State:
        """SA(FF(st)), on a copy unless ``inplace``."""
        return self.sa.apply(self.ff.apply(st, inplace), inplace=True)

    def forward_float(self, X: np.ndarray, dtype: Any = np.float64) -> np.ndarray:
        return self.sa.forward_float(self.ff.forward_float(X, dtype), dtype)

    def to_dict(self) -> dict:
        return {"ff": self.ff.to_dict(), "sa": self.sa.to_dict()}

    @classmethod
    def from_dict(cls, d: dict, dim: int) -> Block:
        return cls(FeedForward.from_dict(d["ff"], dim), SelfAttention.from_dict(d["sa"], dim))
