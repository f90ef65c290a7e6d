"""Token state shared by the layers: exact values, a float64 shadow, and sequence offsets.

Exact entries are ``QQ`` rationals, or ``flint.arb`` balls after a softmax layer (rigorous
enclosures of irrational values). The float64 shadow ``F`` is the rounding of each exact entry
(of the ball's midpoint); ``R`` bounds the radius of each token's balls (0 for rational tokens).
The shadow is only used as a *filter* to find candidates quickly; every decision (sign of a
pre-activation, maximiser of a score) is confirmed on the exact values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import flint
import numpy as np

from .numbers import ZERO, Q, to_float_array

__all__ = [
    "State",
    "ProjectionIndex",
    "is_ball",
    "ball_radius",
    "certain_sign",
    "relu_ball",
    "BALL_PREC",
    "FILTER_SLACK",
]

#: Working precision (bits) of ball arithmetic in softmax layers.
BALL_PREC = 256
#: Relative slack of the float filters that propose decisions (far above float64 rounding).
FILTER_SLACK = 2.0**-40


def is_ball(v: object) -> bool:
    """True for a ``flint.arb`` entry (a rigorous enclosure, not an exact rational)."""
    return isinstance(v, flint.arb)


def ball_radius(v: object) -> float:
    """Upper bound of the radius of an entry (0.0 for a rational)."""
    if isinstance(v, flint.arb):
        r = float(v.rad())
        return r * (1 + 2**-50) + 1e-300 if r else 0.0
    return 0.0


def certain_sign(v: object) -> int | None:
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


def relu_ball(v: object) -> object:
    """ReLU of a rational (exact) or of a ball (a ball enclosing the ReLU of every point of it)."""
    if isinstance(v, flint.arb):
        if v > 0:
            return v
        if v < 0 or v == 0:
            return ZERO
        hi = v.upper()
        return flint.arb(hi / 2, hi / 2)  # encloses [0, hi]
    return v if v > 0 else ZERO


#: A projection index takes in the rows changed since it was built (a merge, linear in n_total)
#: once there are more than MERGE_MIN of them, or n_total / MERGE_FRACTION if that is larger;
#: until then every query projects them afresh.
MERGE_MIN = 1024
MERGE_FRACTION = 16
#: The change log is dropped (with every index) beyond LOG_FACTOR * n_total rows (or LOG_MIN).
LOG_MIN = 1 << 16
LOG_FACTOR = 8


def _bound_of(F: np.ndarray, R: np.ndarray) -> tuple[float, float]:
    f, r = float(np.abs(F).max(initial=0.0)), float(R.max(initial=0.0))
    return (f if np.isfinite(f) else np.inf, r if np.isfinite(r) else np.inf)


def _max_bound(a: tuple, b: tuple) -> tuple:
    return (max(a[0], b[0]), max(a[1], b[1]))


def _direction_key(u: np.ndarray) -> tuple[bytes, int]:
    """A key shared by u and -u (their projections are exact negatives of each other), and the sign."""
    nz = np.flatnonzero(u)
    sign = -1 if len(nz) and u[nz[0]] < 0 else 1
    return (u * sign + 0.0).tobytes(), sign  # + 0.0: no negative zeros in the key


def _mid_float(v: object) -> float:
    return float(v.mid()) if isinstance(v, flint.arb) else float(v)


@dataclass(eq=False)
class ProjectionIndex:
    """The float projections ``<u, x>`` of every token, sorted, as they were at one moment of a state.

    ``since`` is the length of the state's change log then: rows logged after it may have moved.
    An index is never modified (copies of a state share it); a newer one replaces it.
    """

    order: np.ndarray  # rows sorted by projection
    values: np.ndarray  # their projections, increasing
    since: int  # position in the state's change log when the projections were taken

    @classmethod
    def build(cls, F: np.ndarray, u: np.ndarray, since: int) -> ProjectionIndex:
        proj = F @ u
        order = np.argsort(proj, kind="stable")
        return cls(order, proj[order], since)

    def merged(self, F: np.ndarray, u: np.ndarray, rows: np.ndarray, since: int) -> ProjectionIndex:
        """The index with ``rows`` re-projected: O(n_total) moves of memory, no sort of everything."""
        rows = np.unique(rows)
        moved = np.zeros(len(F), dtype=bool)
        moved[rows] = True
        keep = ~moved[self.order]
        order, values = self.order[keep], self.values[keep]
        proj = F[rows] @ u
        s = np.argsort(proj, kind="stable")
        at = np.searchsorted(values, proj[s], "right")
        return ProjectionIndex(np.insert(order, at, rows[s]), np.insert(values, at, proj[s]), since)


@dataclass
class State:
    """The tokens of N sequences stacked in one (n_total, d) array.

    Rows change only through :meth:`set_rows` and :meth:`broadcast`, which log them: the layers keep
    :class:`ProjectionIndex` es of the float shadow to find the few tokens a layer touches without a
    pass over all tokens (:meth:`rows_near`).
    """

    E: np.ndarray  # object (n_total, d): QQ or arb
    F: np.ndarray  # float64 (n_total, d): rounding of E (midpoints for balls)
    R: np.ndarray  # float64 (n_total,): max radius over the token's entries (0 if rational)
    offsets: np.ndarray  # int (N+1,): sequence j is rows offsets[j]:offsets[j+1]
    _indexes: dict = field(default_factory=dict, repr=False)  # direction key -> ProjectionIndex
    _log: np.ndarray | None = field(default=None, repr=False)  # rows written, in order: [:_n_log]
    _n_log: int = field(default=0, repr=False)
    _bound: tuple = field(default=(), repr=False)  # (>= max |F|, >= max R), or () when not known yet

    @classmethod
    def from_sequences(cls, seqs: list[np.ndarray]) -> State:
        """Stack exact (object) sequences."""
        d = seqs[0].shape[1]
        E = np.concatenate([s.reshape(-1, d) for s in seqs], axis=0) if seqs else np.empty((0, d))
        offsets = np.cumsum([0] + [len(s) for s in seqs])
        return cls(E=E, F=to_float_array(E), R=np.zeros(len(E)), offsets=offsets)

    @property
    def d(self) -> int:
        return self.E.shape[1]

    @property
    def n_total(self) -> int:
        return self.E.shape[0]

    @property
    def num_sequences(self) -> int:
        return len(self.offsets) - 1

    def seq_slice(self, j: int) -> slice:
        return slice(int(self.offsets[j]), int(self.offsets[j + 1]))

    def sequences(self) -> list[np.ndarray]:
        """Exact sequences as separate object arrays."""
        return [self.E[self.seq_slice(j)] for j in range(self.num_sequences)]

    def copy(self) -> State:
        """A copy (the projection indexes are shared: they are never modified, only replaced)."""
        out = State(self.E.copy(), self.F.copy(), self.R.copy(), self.offsets.copy())
        if self._indexes:
            out._indexes, out._n_log = dict(self._indexes), self._n_log
            out._log = None if self._log is None else self._log[: self._n_log].copy()
        out._bound = self._bound
        return out

    # ------------------------------------------------------------------ change log and projection indexes
    def _changed(self, idx: np.ndarray) -> None:
        """Log rows written (for the projection indexes) and keep the magnitude bound."""
        idx = np.asarray(idx, dtype=np.int64).ravel()
        if len(idx) == 0:
            return
        if self._bound:
            self._bound = _max_bound(self._bound, _bound_of(self.F[idx], self.R[idx]))
        if not self._indexes:
            return  # nobody to tell: an index built later starts from the current values
        n = self._n_log
        if n + len(idx) > max(LOG_MIN, LOG_FACTOR * self.n_total):
            self._indexes.clear()  # a long log: rebuild the indexes when next asked
            self._log, self._n_log = None, 0
            return
        if self._log is None or len(self._log) < n + len(idx):
            grown = np.empty(max(2 * n, n + len(idx), 256), dtype=np.int64)
            grown[:n] = self._log[:n] if n else grown[:0]
            self._log = grown
        self._log[n : n + len(idx)] = idx
        self._n_log = n + len(idx)

    def magnitude_bound(self) -> tuple[float, float]:
        """Upper bounds of max |F| and of max R over all tokens (inf if a float is not finite)."""
        if not self._bound:
            self._bound = _bound_of(self.F, self.R)
        return self._bound

    def rows_near(self, u: np.ndarray, lo: float, hi: float) -> np.ndarray:
        """Rows whose float projection ``F @ u`` may lie in [lo, hi] (unsorted, possibly repeated).

        ``u`` is a float direction; the window must already include the caller's error bound. The
        index along u answers for the rows unchanged since it was taken; the rows logged since are
        projected afresh, and merged into a new index once there are many of them.
        """
        key, sign = _direction_key(u)
        u = u * sign
        if sign < 0:
            lo, hi = -hi, -lo
        ix = self._indexes.get(key)
        if ix is None:
            ix = self._indexes[key] = ProjectionIndex.build(self.F, u, self._n_log)
        pending = self._log[ix.since : self._n_log] if self._n_log > ix.since else None
        if pending is not None and len(pending) > max(MERGE_MIN, self.n_total // MERGE_FRACTION):
            ix = self._indexes[key] = ix.merged(self.F, u, pending, self._n_log)
            pending = None
        hits = ix.order[np.searchsorted(ix.values, lo, "left") : np.searchsorted(ix.values, hi, "right")]
        if pending is None:
            return hits
        proj = self.F[pending] @ u
        return np.concatenate([hits, pending[(proj >= lo) & (proj <= hi)]])

    # ------------------------------------------------------------------ writes
    def set_rows(self, idx: np.ndarray, rows: np.ndarray, exact: bool | None = None) -> None:
        """Write rows and refresh their float shadow and radii (``exact=True``: caller knows they are rational)."""
        self.E[idx] = rows
        if len(idx) == 0:
            return
        self._changed(idx)
        flat = rows.ravel()
        if not exact and any(not isinstance(v, Q) for v in flat):
            self.F[idx] = np.array([_mid_float(v) for v in flat]).reshape(rows.shape)
            rad = np.array([ball_radius(v) for v in flat]).reshape(rows.shape)
            self.R[idx] = rad.max(axis=1)
        else:
            self.F[idx] = to_float_array(rows)
            self.R[idx] = 0.0

    def copy_groups(self, idx: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """Group rows ``idx`` by exact value: (one representative per value, sorted; the groups of
        more than one row, each an array starting with its representative).

        Equal float rows propose a group (vectorised); exact comparison confirms it. Ball rows are
        never grouped.
        """
        idx = np.asarray(idx, dtype=np.int64)
        if len(idx) <= 1:
            return idx, []
        keys = np.ascontiguousarray(self.F[idx])
        void = keys.view(np.dtype((np.void, keys.dtype.itemsize * keys.shape[1]))).ravel()
        _, inv, counts = np.unique(void, return_inverse=True, return_counts=True)
        inv = inv.ravel()
        multi = counts[inv] > 1
        if not multi.any():
            return np.sort(idx), []
        reps, groups = [idx[~multi]], []
        sub, sub_inv = idx[multi], inv[multi]
        order = np.argsort(sub_inv, kind="stable")
        sub, sub_inv = sub[order], sub_inv[order]
        for members in np.split(sub, np.flatnonzero(np.diff(sub_inv)) + 1):
            rep = members[0]
            if self.R[rep] > 0:
                reps.append(members)
                continue
            eq = np.all(self.E[members] == self.E[rep], axis=1) & (self.R[members] == 0)
            reps.append(members[:1])
            reps.append(members[~eq])  # a different exact value with the same float row: on its own
            if eq.sum() > 1:
                groups.append(members[eq])
        return np.sort(np.concatenate(reps)), groups

    def broadcast(self, groups: list[np.ndarray]) -> None:
        """Copy each group's first row (its representative) onto the other rows of the group."""
        for members in groups:
            rep, rest = members[0], members[1:]
            self.E[rest] = self.E[rep]
            self.F[rest] = self.F[rep]
            self.R[rest] = self.R[rep]
            self._changed(rest)

    @property
    def is_exact(self) -> bool:
        """True when every token is a rational (no ball left)."""
        return not np.any(self.R > 0) and all(isinstance(v, Q) for v in self.E.ravel())
