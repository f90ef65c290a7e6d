"""``verify``: exact check of exact interpolation, float64 differential check, softmax certificate."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core.dataset import Dataset
from ..core.numbers import Q, row_key, to_float_array
from ..core.transformer import Transformer
from ..errors import InputError
from .margins import hardmax_margins

__all__ = ["verify", "Report", "SequenceReport"]


@dataclass
class SequenceReport:
    """Outcome for one sequence: token-wise reading (I1), set reading (I2), worst tokens."""

    index: int
    tokenwise: bool  # T(X)_k = y_k for k <= m and T(X)_i = y_1 for the others
    setwise: bool  # {T(X)_i} = {y_1, ..., y_m}
    undecided: int  # tokens whose enclosure contains the target but is not a point
    wrong: list[int] = field(default_factory=list)  # token indices that miss their target
    float_deviation: float = 0.0

    @property
    def ok(self) -> bool:
        return self.tokenwise and self.setwise


@dataclass
class Report:
    """What ``verify`` found; ``ok`` iff both readings hold for every sequence, proven exactly."""

    sequences: list[SequenceReport]
    softmax: bool
    exact_outputs: bool  # every output token is a rational (no ball left)
    float_deviation: float  # largest |float64 forward - target| over all tokens
    num_blocks: int
    num_parameters: int
    margins: list[Any] | None = None

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.sequences) and self.exact_outputs

    @property
    def certified(self) -> bool:
        """Exactness proven by rational arithmetic (and ball enclosures for softmax layers)."""
        return self.ok

    @property
    def failed(self) -> list[int]:
        return [s.index for s in self.sequences if not s.ok]

    def summary(self) -> str:
        kind = "softmax (certified by ball arithmetic)" if self.softmax else "hardmax (exact rationals)"
        if self.ok:
            head = f"OK: exact interpolation of {len(self.sequences)} sequences, {kind}"
        else:
            und = sum(s.undecided for s in self.sequences)
            head = f"FAILED: {len(self.failed)} of {len(self.sequences)} sequences not interpolated" + (
                f" ({und} tokens undecided by the enclosures)" if und else ""
            )
        counts = f"{self.num_blocks} blocks, {self.num_parameters} nonzero parameters"
        return f"{head}; {counts}; float64 max deviation {self.float_deviation:.3g}"

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "certified": self.certified,
            "softmax": self.softmax,
            "num_blocks": self.num_blocks,
            "num_parameters": self.num_parameters,
            "float64_max_deviation": self.float_deviation,
            "failed_sequences": self.failed,
            "sequences": [
                {
                    "index": s.index,
                    "tokenwise": s.tokenwise,
                    "setwise": s.setwise,
                    "wrong_tokens": s.wrong[:20],
                    "undecided_tokens": s.undecided,
                    "float64_max_deviation": s.float_deviation,
                }
                for s in self.sequences
            ],
        }


def _equal_exact(v: Any, t: Any) -> bool | None:
    """True/False if decided; None if a ball contains the target without being a point."""
    if isinstance(v, Q):
        return v == t
    if v.contains(t):
        return None
    return False


def verify(T: Transformer, ds: Dataset, *, progress: bool = False, margins: bool = False) -> Report:
    """Exact interpolation check of ``T`` on ``ds`` (both readings: ARCHITECTURE.md, "Semantics")."""
    if T.d != ds.d:
        raise InputError(f"the model acts on d = {T.d} but the dataset has d = {ds.d}")
    outs = T.forward_many(ds.inputs, exact=True, progress=progress)
    floats = T.forward_many([to_float_array(X) for X in ds.inputs], exact=False)
    reports = []
    all_exact = True
    worst = 0.0
    for j, (out, fl) in enumerate(zip(outs, floats, strict=True)):
        tgt = ds.targets(j)
        Y = ds.outputs[j]
        wrong, undecided = [], 0
        for i in range(len(out)):
            res = [_equal_exact(v, t) for v, t in zip(out[i], tgt[i], strict=True)]
            if any(r is False for r in res):
                wrong.append(i)
            elif any(r is None for r in res):
                undecided += 1
        exact_rows = all(isinstance(v, Q) for v in out.ravel())
        all_exact &= exact_rows
        if exact_rows:
            got = {row_key(r) for r in out}
            want = {row_key(r) for r in Y}
            setwise = got == want
        else:
            setwise = False
        dev = float(np.max(np.abs(fl - to_float_array(tgt)))) if len(out) else 0.0
        if not np.isfinite(dev):
            dev = float("inf")
        worst = max(worst, dev)
        reports.append(
            SequenceReport(
                index=j,
                tokenwise=not wrong and undecided == 0,
                setwise=setwise,
                undecided=undecided,
                wrong=wrong,
                float_deviation=dev,
            )
        )
    return Report(
        sequences=reports,
        softmax=not T.is_hardmax,
        exact_outputs=all_exact,
        float_deviation=worst,
        num_blocks=T.num_blocks,
        num_parameters=T.num_parameters,
        margins=hardmax_margins(T, ds.inputs) if margins else None,
    )
