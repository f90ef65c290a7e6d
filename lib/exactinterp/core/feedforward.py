"""The feed-forward layer ``FF(x) = eta x + W relu(U x + b)``, token-wise, with an exact and a float forward.

Exact evaluation never decides anything in floating point: a float64 shadow proposes on which side
of each ReLU kink a token lies, exact arithmetic confirms it near a kink (filtered predicates). An FF
layer is affine on each activation pattern, so tokens sharing a pattern share one exact affine map;
patterns with the identity map cost nothing.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import LayerError
from .numbers import (
    ONE,
    ZERO,
    Q,
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
#: Float forward: widths up to this sum their neurons one by one; wider layers use BLAS.
SEQ_WIDTH = 32
#: Float forward of wide layers: rows per BLAS call (a fixed shape, so a row's bits never depend
#: on the rows stacked with it).
FLOAT_BLOCK = 64


def _by_piece(seg: np.ndarray) -> dict[tuple, np.ndarray]:
    """Rows grouped by affine piece: key ((group, segment), ...) over the groups whose segment does
    something (``seg`` is -1 for the others)."""
    if len(seg) <= 16:
        out: dict[tuple, list[int]] = {}
        for r, row in enumerate(seg.tolist()):
            out.setdefault(tuple((gi, s) for gi, s in enumerate(row) if s >= 0), []).append(r)
        return {k: np.array(v) for k, v in out.items()}
    uniq, inv = np.unique(seg, axis=0, return_inverse=True)
    inv = inv.ravel()
    order = np.argsort(inv, kind="stable")
    parts = np.split(order, np.flatnonzero(np.diff(inv[order])) + 1)
    return {
        tuple((gi, s) for gi, s in enumerate(row) if s >= 0): rows
        for row, rows in zip(uniq.tolist(), parts, strict=True)
    }


def _seq_dot(F: np.ndarray, dirs: np.ndarray) -> np.ndarray:
    """``F @ dirs.T`` summed in coordinate order (the same bits for a row, whatever the other rows)."""
    t = F[:, 0:1] * dirs[:, 0]
    for k in range(1, F.shape[1]):
        t += F[:, k : k + 1] * dirs[:, k]
    return t


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
        """Prefix sums over the kinks in increasing order: O(K d) exact additions for K neurons."""
        u = ff.U[ks[0]]
        b = ff.b
        by_kink = sorted(ks, key=lambda k: -b[k])  # sorted, not hashed: hashing a rational is slow
        d = ff.d
        const = is_zero(u)  # a constant neuron: t = 0 always, so alpha = 0
        a = np.full(d, ZERO, dtype=object)
        c = np.full(d, ZERO, dtype=object)
        alpha, beta, kinks = [a.copy()], [c.copy()], []
        for i, k in enumerate(by_kink):  # segment s + 1: the neurons of the first s + 1 kinks are active
            a = a + ff.W[:, k]
            c = c + ff.W[:, k] * b[k]
            if i + 1 < len(by_kink) and b[by_kink[i + 1]] == b[k]:
                continue  # the next neuron has the same kink
            kinks.append(-b[k])
            alpha.append(np.full(d, ZERO, dtype=object) if const else a)
            beta.append(c)
        anz = [not is_zero(v) for v in alpha]
        zero = [not nz and is_zero(v) for nz, v in zip(anz, beta, strict=True)]
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
        """Exact segment of t (None for a ball straddling a kink): a binary search for a rational."""
        if isinstance(t, Q):
            return bisect_left(self.th, t)
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
    def forward_float(self, F: np.ndarray, dtype: Any = np.float64, inplace: bool = False) -> np.ndarray:
        """Float forward in ``dtype`` (weights rounded to ``dtype``), row by row (may return ``F`` itself;
        ``inplace``: may overwrite it).

        The rounding is fixed per token, whatever is stacked with it: ``t = <u, x>`` is summed in
        coordinate order (once per distinct row u of U), the pre-activations are ``t + b``, and the
        output ``eta x + sum_k relu_k W[:, k]`` sums the neurons in index order when the width is at
        most :data:`SEQ_WIDTH`, else with BLAS on blocks of exactly :data:`FLOAT_BLOCK` rows. So one
        sequence, or all sequences stacked, give the same bits. A token with every ReLU off is
        returned as ``eta x`` (the dense formula adds zeros to it).
        """
        F = np.asarray(F, dtype=dtype)
        plan = self._float_plan(dtype)
        eta = plan["eta"]
        out = F if eta == 1 else eta * F
        if plan["W"] is None or len(F) == 0:
            return out
        dirs = plan["dirs"]
        if len(dirs) == 1:  # one direction (a narrow layer): work on a vector
            t = _seq_dot(F, dirs)[:, 0]
            rows = np.flatnonzero(t > plan["lo"][0])
            t = t[rows, None]
        else:
            t = _seq_dot(F, dirs)
            rows = np.flatnonzero((t > plan["lo"]).any(axis=1))
            t = t[rows]
        if len(rows) == 0:
            return out
        acc = self._float_sum(t, plan, dtype)
        out = out.copy() if out is F and not inplace else out
        out[rows] = (F[rows] if eta == 1 else out[rows]) + acc
        return out

    def _float_sum(self, t: np.ndarray, plan: dict, dtype: Any) -> np.ndarray:
        """``relu(t[:, gidx] + b) @ W.T``: neurons summed in index order (narrow), or BLAS on blocks of
        exactly FLOAT_BLOCK rows (wide; the pre-activations never exist for more rows than that)."""
        b, W, gidx = plan["b"], plan["W"], plan["gidx"]
        if self.width <= SEQ_WIDTH:  # tokens along the fast axis: (w, n) pre-activations, (d, n) sums
            h = np.maximum(t.T[gidx] + b[:, None], dtype(0))
            acc = W[:, 0:1] * h[0]
            for k in range(1, self.width):
                acc += W[:, k : k + 1] * h[k]
            return acc.T
        acc = np.empty((len(t), self.d), dtype=dtype)
        blk = np.zeros((FLOAT_BLOCK, self.width), dtype=dtype)
        for r0 in range(0, len(t), FLOAT_BLOCK):
            m = min(FLOAT_BLOCK, len(t) - r0)
            np.add(t[r0 : r0 + m][:, gidx], b, out=blk[:m])
            blk[m:] = 0
            np.maximum(blk, dtype(0), out=blk)
            acc[r0 : r0 + m] = (blk @ W.T)[:m]
        return acc

    def _float_plan(self, dtype: Any) -> dict:
        """Weights rounded to ``dtype``, grouped by distinct float rows of U (cached per dtype)."""
        key = ("float", np.dtype(dtype).str)
        if key not in self._cache:
            eta = dtype(self.etaf)
            if self.width == 0 or not np.any(self.Wf):
                self._cache[key] = {"eta": eta, "W": None}
            else:
                U, b = self.Uf.astype(dtype), self.bf.astype(dtype)
                group: dict[bytes, int] = {}  # distinct rows of U, in order of first appearance
                gidx = np.array([group.setdefault((row + 0.0).tobytes(), len(group)) for row in U], dtype=np.int64)
                dirs = U[np.unique(gidx, return_index=True)[1]]
                lo = np.full(len(dirs), np.inf, dtype=dtype)  # a row is active iff t > -b_k for some k
                np.minimum.at(lo, gidx, -b)
                self._cache[key] = {
                    "eta": eta,
                    "dirs": dirs,
                    "gidx": gidx,
                    "lo": lo,
                    "b": b,
                    "W": self.Wf.astype(dtype),
                }
        return self._cache[key]

    # exact forward
    def _groups(self) -> list[_Group]:
        """Neurons grouped by equal U rows: on each group the FF is piecewise linear in t = <u, x>."""
        if "groups" not in self._cache:
            by_row: dict[tuple, list[int]] = {}
            for k in range(self.width):
                by_row.setdefault(row_key(self.U[k]), []).append(k)
            self._cache["groups"] = [_Group.build(self, ks) for ks in by_row.values()]
        return self._cache["groups"]

    def _affine_piece(self, key: tuple) -> tuple[list, np.ndarray, list[int]]:
        """``x -> eta x + sum_g (u_g . x) alpha_g + c`` on a combination of group segments.

        Returns the rank-one terms (u_g, alpha_g), c, and the coordinates r where the map is constant
        (row r of ``A = eta I + sum_g alpha_g u_g^T`` is zero: a snap flattens it), which are set to
        exactly c_r, even for a ball.
        """
        hit = self._cache.get(key)
        if hit is None:
            groups = self._groups()
            d = self.d
            c = np.full(d, ZERO, dtype=object)
            terms = []
            A = np.full((d, d), ZERO, dtype=object)
            for r in range(d):
                A[r, r] = self.eta
            for gi, sg in key:
                g = groups[gi]
                c = c + g.beta[sg]
                if g.alpha_nz[sg]:
                    terms.append((g.u, g.alpha[sg]))
                    A = A + np.outer(g.alpha[sg], g.u)
            hit = self._cache[key] = (terms, c, [r for r in range(d) if is_zero(A[r])])
        return hit

    def apply(self, st: State, inplace: bool = False) -> State:
        """Exact forward on every token of ``st`` (on a copy unless ``inplace``).

        For each group of neurons sharing a direction u, the float64 shadow locates t = <u, x> among
        the group's kinks; a token within the float error of a kink is located exactly. A group whose
        segment contributes nothing (both sides of a bump, say) costs no exact work, so a token far
        from every kink with eta = 1 is left untouched; such tokens are not even visited: the state's
        projection index along u lists the tokens in the window of the kinks whose segments do
        something (:meth:`~exactinterp.core.state.State.rows_near`). Ball tokens whose segment is
        uncertain are evaluated with ball ReLUs.
        """
        st = st if inplace else st.copy()
        if self.width == 0:
            if self.eta != 1:
                st.set_rows(np.arange(st.n_total), st.E * self.eta, exact=not st.R.any())
            return st
        groups = self._groups()
        rows = self._candidates(st, groups)
        if len(rows) == 0:
            return st
        seg, ball_rows = self._segments(st, groups, rows)
        nonzero = np.zeros(seg.shape, dtype=bool)
        for gi, g in enumerate(groups):
            nonzero[:, gi] = ~g.zero[seg[:, gi]]
        local = np.flatnonzero(nonzero.any(axis=1) | (self.eta != 1))
        if ball_rows:
            local = np.array([k for k in local if int(rows[k]) not in ball_rows], dtype=int)
        if len(local):
            self._apply_affine(st, rows[local], seg[local], nonzero[local])
        for i in sorted(ball_rows):
            self._apply_ball_row(st, i)
        return st

    def _candidates(self, st: State, groups: list[_Group]) -> np.ndarray:
        """Sorted rows that may lie in a segment that does something (every row when eta != 1).

        Per group, the segments with a nonzero affine piece span [lo, hi] between two kinks; a row
        whose float projection is farther than its error bound from that window lies, exactly, in
        a segment that adds nothing.
        """
        everyone = np.arange(st.n_total)
        fmax, rmax = st.magnitude_bound()
        if self.eta != 1 or not fmax <= 1e150 or not rmax <= 1e150:
            return everyone
        found: list[np.ndarray] = []
        for g in groups:
            nz = np.flatnonzero(~g.zero)
            if len(nz) == 0:
                continue
            K = len(g.thf)
            lo = g.thf[nz[0] - 1] if nz[0] > 0 else -np.inf
            hi = g.thf[nz[-1]] if nz[-1] < K else np.inf
            if g.u1 == 0 or (lo == -np.inf and hi == np.inf):
                return everyone
            top = max(abs(lo) if lo > -np.inf else 0.0, abs(hi) if hi < np.inf else 0.0)
            err = 2 * (g.u1 * (2 * _U * fmax + (1 + _U) * rmax) + _U * top) + 1e-300
            found.append(st.rows_near(g.uf, lo - err, hi + err))
            if sum(len(f) for f in found) > st.n_total // 4:
                return everyone  # a pass over all tokens is cheaper than the index
        return np.unique(np.concatenate(found)) if found else everyone[:0]  # sorted, no repeats

    def _segments(self, st: State, groups: list[_Group], rows: np.ndarray) -> tuple[np.ndarray, set[int]]:
        """Segment of every token of ``rows`` (sorted) in every group (float filter, exact near kinks).

        Returns the segments (one row per entry of ``rows``) and the rows of straddling balls.
        """
        n, F, R = len(rows), st.F[rows], st.R[rows]
        seg = np.zeros((n, len(groups)), dtype=np.int64)
        amb = np.ones((n, len(groups)), dtype=bool)
        if bool(np.all(np.isfinite(F))) and np.abs(F).max(initial=0) <= 1e150:
            slack = np.abs(F).max(axis=1, initial=0.0) * _U + R * (1 + _U)
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
        reps, copies = st.copy_groups(rows[np.flatnonzero(amb.any(axis=1))])
        members_of = {int(m[0]): m for m in copies}
        for rep in reps.tolist():
            members = members_of.get(rep)
            members = np.array([rep]) if members is None else members
            here = np.searchsorted(rows, members)
            for gi in np.flatnonzero(amb[np.searchsorted(rows, rep)]):
                s = groups[gi].segment(exact_dot(groups[gi].u, st.E[rep]))
                if s is None:
                    ball_rows.update(int(m) for m in members)
                    break
                seg[here, gi] = s
        return seg, ball_rows

    def _apply_affine(self, st: State, work: np.ndarray, seg: np.ndarray, nonzero: np.ndarray) -> None:
        """Rows ``work`` (sorted; ``seg``, ``nonzero`` aligned with it): the FF is affine on each
        combination of segments, x -> A x + c (exact).

        One product per combination; A has zero rows where a snap flattens, so balls land exactly.
        """
        reps, cgroups = st.copy_groups(work)
        at = np.searchsorted(work, reps)
        new = np.empty((len(reps), self.d), dtype=object)
        for k, rs in _by_piece(np.where(nonzero[at], seg[at], -1)).items():
            terms, c, flat = self._affine_piece(k)
            X = st.E[reps[rs]]
            out = X + c if self.eta == 1 else X * self.eta + c
            for u, alpha in terms:  # rank-one updates: 2d products per token instead of d^2
                out = out + np.multiply.outer(X.dot(u), alpha)
            for r in flat:  # a flattened coordinate is exactly c_r, even for a ball
                out[:, r] = c[r]
            new[rs] = out
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
