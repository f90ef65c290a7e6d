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


#: An epoch of the projection indexes ends (they are rebuilt when next asked) once more than this
#: many rows have changed, or n_total / EPOCH_FRACTION if that is larger: every query returns them.
EPOCH_MIN = 1024
EPOCH_FRACTION = 16


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

    A query returns the rows whose projection *was* in a window, plus every row the state lists as
    changed in the current epoch (the caller re-examines those).
    """

    order: np.ndarray  # rows sorted by projection
    values: np.ndarray  # their projections, increasing


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
    _dirty: np.ndarray | None = field(default=None, repr=False)  # bool (n_total,): changed in this epoch
    _changed_rows: np.ndarray | None = field(default=None, repr=False)  # the rows changed: [:_n_changed]
    _n_changed: int = field(default=0, repr=False)
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
            out._indexes, out._n_changed = dict(self._indexes), self._n_changed
            out._changed_rows = None if self._changed_rows is None else self._changed_rows.copy()
            out._dirty = None if self._dirty is None else self._dirty.copy()
        out._bound = self._bound
        return out

    # ------------------------------------------------------------------ change log and projection indexes
    def _changed(self, idx: np.ndarray) -> None:
        """Note rows written: the indexes report them until the epoch ends (too many changes)."""
        idx = np.asarray(idx, dtype=np.int64).ravel()
        if len(idx) == 0:
            return
        if self._bound:
            self._bound = _max_bound(self._bound, _bound_of(self.F[idx], self.R[idx]))
        if not self._indexes:
            return  # nobody to tell
        if self._dirty is None:
            self._dirty = np.zeros(self.n_total, dtype=bool)
        new = idx[~self._dirty[idx]]
        if len(new) > 1 and not np.all(new[1:] > new[:-1]):
            new = np.unique(new)
        n = self._n_changed
        if n + len(new) > max(EPOCH_MIN, self.n_total // EPOCH_FRACTION):
            self._end_epoch()
            return
        if self._changed_rows is None or len(self._changed_rows) < n + len(new):
            grown = np.empty(max(2 * n, n + len(new), 256), dtype=np.int64)
            grown[:n] = self._changed_rows[:n] if n else grown[:0]
            self._changed_rows = grown
        self._dirty[new] = True
        self._changed_rows[n : n + len(new)] = new
        self._n_changed = n + len(new)

    def _end_epoch(self) -> None:
        """Forget the indexes (rebuilt from the current values when next asked) and the changed rows."""
        self._indexes.clear()
        self._dirty, self._changed_rows, self._n_changed = None, None, 0

    def magnitude_bound(self) -> tuple[float, float]:
        """Upper bounds of max |F| and of max R over all tokens (inf if a float is not finite)."""
        if not self._bound:
            self._bound = _bound_of(self.F, self.R)
        return self._bound

    def rows_near(self, u: np.ndarray, lo: float, hi: float) -> np.ndarray:
        """Rows whose float projection ``F @ u`` may lie in [lo, hi], plus the rows changed in this epoch
        (unsorted, possibly repeated).

        ``u`` is a float direction; the window must already include the caller's error bound.
        """
        key, sign = _direction_key(u)
        if sign < 0:
            lo, hi = -hi, -lo
        ix = self._indexes.get(key)
        if ix is None:  # built from the current values; rows changed earlier in the epoch are reported anyway
            proj = self.F @ (u * sign)
            order = np.argsort(proj, kind="stable")
            ix = self._indexes[key] = ProjectionIndex(order, proj[order])
        a = np.searchsorted(ix.values, lo, "left")
        b = np.searchsorted(ix.values, hi, "right")
        if self._n_changed:
            return np.concatenate([ix.order[a:b], self._changed_rows[: self._n_changed]])
        return ix.order[a:b]

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
