"""Token state shared by the layers: exact values, a float64 shadow, and sequence offsets.

Exact entries are ``QQ`` rationals, or ``flint.arb`` balls after a softmax layer (rigorous
enclosures of irrational values). The float64 shadow ``F`` is the rounding of each exact entry
(of the ball's midpoint); ``R`` bounds the radius of each token's balls (0 for rational tokens).
The shadow is only used as a *filter* to find candidates quickly; every decision (sign of a
pre-activation, maximiser of a score) is confirmed on the exact values.
"""

from __future__ import annotations

from dataclasses import dataclass

import flint
import numpy as np

from .numbers import ZERO, Q, to_float_array

__all__ = ["State", "is_ball", "ball_radius", "certain_sign", "relu_ball", "BALL_PREC", "FILTER_SLACK"]

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


def _mid_float(v: object) -> float:
    return float(v.mid()) if isinstance(v, flint.arb) else float(v)


@dataclass
class State:
    """The tokens of N sequences stacked in one (n_total, d) array."""

    E: np.ndarray  # object (n_total, d): QQ or arb
    F: np.ndarray  # float64 (n_total, d): rounding of E (midpoints for balls)
    R: np.ndarray  # float64 (n_total,): max radius over the token's entries (0 if rational)
    offsets: np.ndarray  # int (N+1,): sequence j is rows offsets[j]:offsets[j+1]

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
        return State(self.E.copy(), self.F.copy(), self.R.copy(), self.offsets.copy())

    def set_rows(self, idx: np.ndarray, rows: np.ndarray, exact: bool | None = None) -> None:
        """Write rows and refresh their float shadow and radii (``exact=True``: caller knows they are rational)."""
        self.E[idx] = rows
        if len(idx) == 0:
            return
        flat = rows.ravel()
        if not exact and any(not isinstance(v, Q) for v in flat):
            self.F[idx] = np.array([_mid_float(v) for v in flat]).reshape(rows.shape)
            rad = np.array([ball_radius(v) for v in flat]).reshape(rows.shape)
            self.R[idx] = rad.max(axis=1)
        else:
            self.F[idx] = to_float_array(rows)
            self.R[idx] = 0.0

    def copy_groups(self, idx: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """Group rows ``idx`` by exact value: [(representative, members)].

        Equal float rows propose a group (cheap, vectorised); exact comparison confirms it. Ball
        rows are never grouped.
        """
        idx = np.asarray(idx, dtype=int)
        if len(idx) <= 2:
            return [(int(i), np.array([i])) for i in idx]
        keys = np.ascontiguousarray(self.F[idx])
        void = keys.view(np.dtype((np.void, keys.dtype.itemsize * keys.shape[1]))).ravel()
        _, inv = np.unique(void, return_inverse=True)
        inv = inv.ravel()
        order = np.argsort(inv, kind="stable")
        bounds = np.searchsorted(inv[order], np.arange(inv.max() + 2))
        out: list[tuple[int, np.ndarray]] = []
        for g in range(len(bounds) - 1):
            members = idx[order[bounds[g] : bounds[g + 1]]]
            rep = int(members[0])
            if self.R[rep] > 0 or len(members) == 1:
                out.extend((int(m), np.array([m])) for m in members)
                continue
            eq = np.all(self.E[members] == self.E[rep], axis=1) & (self.R[members] == 0)
            same = members[eq]
            out.append((rep, np.array(same, dtype=int)))
            if len(same) != len(members):
                rest = set(int(m) for m in members) - set(int(m) for m in same)
                out.extend((m, np.array([m])) for m in sorted(rest))
        return out

    def broadcast(self, groups: list[tuple[int, np.ndarray]]) -> None:
        """Copy each representative's row onto the other members of its group."""
        for rep, members in groups:
            if len(members) > 1:
                self.E[members] = self.E[rep]
                self.F[members] = self.F[rep]
                self.R[members] = self.R[rep]

    @property
    def is_exact(self) -> bool:
        """True when every token is a rational (no ball left)."""
        return not np.any(self.R > 0) and all(isinstance(v, Q) for v in self.E.ravel())
