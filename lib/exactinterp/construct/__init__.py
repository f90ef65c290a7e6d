"""The constructions, one module per proof step: ``construct(ds, attention="hardmax" | "softmax")``.

Modules in the order of the proof: ``build`` (the state carried between steps), ``primitives``
(neurons, bumps, snaps, attention kinds, rational sphere points), ``bumps`` (moving points exactly),
``separation``, ``leaders`` (box and leader selection), ``clustering``, ``interpolation``,
``temperature`` and ``snap`` (softmax only); ``hardmax`` and ``softmax`` are the two theorems, each
its steps called in order; ``bounds`` holds every block and parameter count.
"""

from __future__ import annotations

from typing import Any

from ..core.dataset import Dataset
from ..core.transformer import Transformer
from .hardmax import construct_hardmax
from .softmax import construct_softmax

__all__ = ["construct", "ATTENTIONS"]

ATTENTIONS = ("hardmax", "softmax")


def construct(
    ds: Dataset,
    attention: str = "hardmax",
    *,
    max_width: int | None = 4,
    progress: bool = False,
    delta: Any | None = None,
    snap_to_targets: bool = False,
) -> Transformer:
    """A transformer that exactly interpolates ``ds``.

    ``max_width`` is the largest FF hidden width: 4 (default) moves one point per block, the
    paper's narrow regime; ``None`` puts every move of a phase in one FF (the shallowest model).
    ``delta`` (the clustering tolerance) and ``snap_to_targets`` apply to softmax models only.
    """
    if not isinstance(ds, Dataset):
        raise TypeError(f"construct expects a Dataset, not {type(ds).__name__}")
    if max_width is not None and (not isinstance(max_width, int) or isinstance(max_width, bool)):
        raise TypeError(f"max_width must be an int or None, not {type(max_width).__name__}")
    if attention == "hardmax":
        if delta is not None or snap_to_targets:
            raise TypeError("delta and snap_to_targets apply to attention='softmax' only")
        return construct_hardmax(ds, max_width=max_width, progress=progress)
    if attention == "softmax":
        return construct_softmax(
            ds, max_width=max_width, delta=delta, snap_to_targets=snap_to_targets, progress=progress
        )
    raise ValueError(f"unknown attention {attention!r}: choose one of {', '.join(ATTENTIONS)}")
