"""A construction in progress: the dataset, its classes, the layers added step by step, every state.

Each proof step (separation, box, leaders, clustering, interpolation, snap) is a function
``step(b: Build)`` that appends its *layers* with :meth:`Build.add`. Layers are paired into blocks
``SA ∘ FF`` only at the end (:attr:`Build.blocks`): an FF followed by an SA forms one block, and a
layer without a partner is completed by an identity layer. So the clustering SA, added by its own
step, lands in the same block as the last leader-selection FF, exactly as in the paper's count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core.attention import SelfAttention
from ..core.dataset import Dataset
from ..core.feedforward import FeedForward
from ..core.numbers import ZERO, row_key, to_q
from ..core.state import State
from ..core.transformer import Block, Transformer

__all__ = ["Layer", "Step", "Leader", "Build", "start", "distinct_rows"]

Layer = FeedForward | SelfAttention


@dataclass
class Step:
    """One proof step: its name, the layers it added, and the exact token state after them."""

    name: str
    layers: list[Layer]
    state: State

    @property
    def ffs(self) -> list[FeedForward]:
        return [lay for lay in self.layers if isinstance(lay, FeedForward)]


@dataclass
class Leader:
    """One point of the clustered configuration: a class's token value and the output it must reach."""

    cls: int  # index into Build.classes
    row: int  # a state row holding this value
    target: tuple  # the output it must reach
    first: bool  # True for the class's first leader (its token x_1)
    position: Any = None  # its value after leader selection (t·1 or a sphere point)


@dataclass
class Build:
    """A construction in progress.

    ``filler_tau`` is the temperature of the identity attention layers that complete blocks (0 for
    hardmax models, 1 for softmax models: a layer with V = 0 does not depend on τ).
    ``info[step]`` records what each step chose (directions, constants, temperatures).
    """

    ds: Dataset
    classes: list[list[int]]
    state: State
    filler_tau: Any = ZERO
    max_width: int | None = 4
    progress: bool = False
    sweep: bool = True  # plan narrow phases as float64-safe sweeps (construct/bumps.py); False: one bump at a time
    steps: list[Step] = field(default_factory=list)
    leaders: list[Leader] = field(default_factory=list)
    info: dict = field(default_factory=dict)

    @property
    def d(self) -> int:
        return self.ds.d

    def add(self, name: str, layers: Sequence[Layer]) -> Step:
        """Append a step: apply its layers to (a copy of) the current state and record the result."""
        st = self.state.copy()
        for layer in layers:
            st = layer.apply(st, inplace=True)
        self.state = st
        step = Step(name, list(layers), st)
        self.steps.append(step)
        return step

    def step(self, name: str) -> Step:
        return next(s for s in self.steps if s.name == name)

    def before(self, name: str) -> State:
        """The exact token state entering step ``name``."""
        i = [s.name for s in self.steps].index(name)
        return self.steps[i - 1].state if i else State.from_sequences(list(self.ds.inputs))

    @property
    def layers(self) -> list[Layer]:
        return [lay for s in self.steps for lay in s.layers]

    @property
    def blocks(self) -> list[Block]:
        """The layers paired into blocks ``SA ∘ FF``; unpaired layers get an identity partner."""
        out: list[Block] = []
        pending: FeedForward | None = None
        for lay in self.layers:
            if isinstance(lay, FeedForward):
                if pending is not None:
                    out.append(Block(pending, SelfAttention.identity(self.d, self.filler_tau)))
                pending = lay
            else:
                out.append(Block(pending if pending is not None else FeedForward.identity(self.d), lay))
                pending = None
        if pending is not None:
            out.append(Block(pending, SelfAttention.identity(self.d, self.filler_tau)))
        return out

    @property
    def transformer(self) -> Transformer:
        return Transformer(self.d, self.blocks)

    # ------------------------------------------------------------------ views of the current state
    def class_rows(self, c: int) -> np.ndarray:
        """State rows of class c's representative sequence (its first member)."""
        sl = self.state.seq_slice(self.classes[c][0])
        return np.arange(sl.start, sl.stop)

    def values(self) -> tuple[np.ndarray, np.ndarray]:
        """Distinct current token values (exact, float64) over the classes' representative sequences."""
        rows = np.concatenate([self.class_rows(c) for c in range(len(self.classes))])
        idx = np.array(list(distinct_rows(self.state.E, rows).values()), dtype=int)
        return self.state.E[idx], self.state.F[idx]

    def values_disjoint(self, E: np.ndarray | None = None) -> bool:
        """True when no token value occurs in two different classes (of ``E``, default the current state)."""
        E = self.state.E if E is None else E
        owner: dict[tuple, int] = {}
        for c in range(len(self.classes)):
            for r in self.class_rows(c):
                if owner.setdefault(row_key(E[r]), c) != c:
                    return False
        return True


def start(
    ds: Dataset, *, max_width: int | None = 4, filler_tau: Any = ZERO, progress: bool = False, sweep: bool = True
) -> Build:
    """A new build: the input state, and the classes of sequences with equal token proportions."""
    return Build(
        ds=ds,
        classes=ds.classes(),
        state=State.from_sequences(list(ds.inputs)),
        filler_tau=to_q(filler_tau),
        max_width=max_width,
        progress=progress,
        sweep=sweep,
    )


def distinct_rows(E: np.ndarray, rows: np.ndarray) -> dict[tuple, int]:
    """One row index per distinct value among ``rows`` (keyed by the exact row key)."""
    out: dict[tuple, int] = {}
    for r in rows:
        out.setdefault(row_key(E[r]), int(r))
    return out
