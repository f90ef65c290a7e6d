"""Constructions: ``construct(ds, attention="hardmax" | "softmax", max_width=4)``."""

from __future__ import annotations

from typing import Any

from ..dataset import Dataset
from ..transformer import Transformer
from .hardmax import ConstructionError, construct_hardmax

__all__ = ["construct", "ConstructionError", "ATTENTIONS"]

ATTENTIONS = ("hardmax", "softmax")


def construct(
    ds: Dataset, attention: str = "hardmax", *, max_width: int | None = 4, progress: bool = False, **kw: Any
) -> Transformer:
    """A transformer that exactly interpolates ``ds``.

    ``max_width`` is the largest FF hidden width: 4 (default) moves one point per block, the
    paper's narrow regime; ``None`` puts every move of a phase in one FF (the shallowest model).
    """
    if not isinstance(ds, Dataset):
        raise TypeError("construct expects a Dataset")
    if attention == "hardmax":
        return construct_hardmax(ds, max_width=max_width, progress=progress)
    if attention == "softmax":
        try:
            from .softmax import construct_softmax
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.softmax":
                raise
            raise ConstructionError("softmax attention is not available yet in this version") from None

        return construct_softmax(ds, max_width=max_width, **kw)
    raise ValueError(f"unknown attention {attention!r}: choose one of {', '.join(ATTENTIONS)}")
