"""``verify``: exact check of exact interpolation, float64 differential check, softmax certificate."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core.dataset import Dataset
from ..core.numbers import Q, q_to_str, row_key, to_float_array
from ..core.transformer import Transformer
from ..errors import InputError
from .floats import FLOAT_TOL, certified_float_bound, data_scale
from .margins import hardmax_margins

__all__ = ["verify", "Report", "SequenceReport", "FLOAT_TOL"]

#: Wrong tokens per sequence whose values (got vs expected) the report keeps.
MISMATCHES = 5


@dataclass
class SequenceReport:
    """Outcome for one sequence: token-wise reading (I1), set reading (I2), worst tokens."""

    index: int
    tokenwise: bool  # T(X)_k = y_k for k <= m and T(X)_i = y_1 for the others
    setwise: bool  # {T(X)_i} = {y_1, ..., y_m}
    undecided: int  # tokens whose enclosure contains the target but is not a point
    wrong: list[int] = field(default_factory=list)  # token indices that miss their target
    float_deviation: float = 0.0
    mismatches: list[tuple[int, str, str]] = field(default_factory=list)  # (token, got, expected), first few

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
    float_scale: float = 1.0  # the data's scale: largest |target| (else largest |input|, else 1)
    float_tol: float = FLOAT_TOL  # tolerance of the float64 deviation, relative to float_scale
    float_bound: float | None = None  # certified bound of the float64 deviation (absolute), if computed

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

    @property
    def float_relative(self) -> float:
        """The float64 deviation relative to the data's scale."""
        return self.float_deviation / self.float_scale

    @property
    def float_ok(self) -> bool:
        """True when the float64 forward stays within ``float_tol`` of the targets (relative to the scale)."""
        return self.float_relative <= self.float_tol

    def float_warning(self) -> str | None:
        """One line when the float64 deviation exceeds the tolerance (None otherwise)."""
        if self.float_ok:
            return None
        return (
            f"warning: the float64 forward of this model deviates from the targets by {self.float_deviation:.3g} "
            f"({self.float_relative:.3g} of the data's scale {self.float_scale:.3g}, tolerance {self.float_tol:.3g}); "
            "the exact verdict above stands, but a float64 deployment of these weights is not accurate"
        )

    def summary(self) -> str:
        kind = "softmax (certified by ball arithmetic)" if self.softmax else "hardmax (exact rationals)"
        n = len(self.sequences)
        if self.ok:
            head = f"OK: exact interpolation of {n} sequence{'s' * (n != 1)}, {kind}"
        else:
            und = sum(s.undecided for s in self.sequences)
            head = f"FAILED: {len(self.failed)} of {n} sequence{'s' * (n != 1)} not interpolated" + (
                f" ({und} token{'s' * (und != 1)} undecided by the enclosures)" if und else ""
            )
        counts = f"{self.num_blocks} blocks, {self.num_parameters} nonzero parameters"
        bound = "" if self.float_bound is None else f" (certified bound {self.float_bound:.3g})"
        return f"{head}; {counts}; float64 max deviation {self.float_deviation:.3g}{bound}"

    def mismatch_lines(self, limit: int = 5) -> list[str]:
        """Got vs expected for the first failing tokens of the first ``limit`` failing sequences."""
        out = []
        for s in [s for s in self.sequences if not s.ok][:limit]:
            for i, got, want in s.mismatches[:3]:
                out.append(f"  sequence {s.index}, token {i}: got {got}, expected {want}")
            if not s.mismatches:
                out.append(f"  sequence {s.index}: output tokens are not the set of targets")
        return out

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "certified": self.certified,
            "softmax": self.softmax,
            "num_blocks": self.num_blocks,
            "num_parameters": self.num_parameters,
            "float64_max_deviation": self.float_deviation,
            "float64_relative_deviation": self.float_relative,
            "float64_scale": self.float_scale,
            "float64_tolerance": self.float_tol,
            "float64_ok": self.float_ok,
            "float64_certified_bound": self.float_bound,
            "failed_sequences": self.failed,
            "sequences": [
                {
                    "index": s.index,
                    "tokenwise": s.tokenwise,
                    "setwise": s.setwise,
                    "wrong_tokens": s.wrong[:20],
                    "undecided_tokens": s.undecided,
                    "float64_max_deviation": s.float_deviation,
                    "mismatches": [{"token": i, "got": g, "expected": w} for i, g, w in s.mismatches],
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


def _text(v: Any) -> str:
    return q_to_str(v) if isinstance(v, Q) else str(v)


def _row_text(row: Any) -> str:
    return "(" + ", ".join(_text(v) for v in row) + ")"


def verify(
    T: Transformer,
    ds: Dataset,
    *,
    progress: bool = False,
    margins: bool = False,
    float_tol: float = FLOAT_TOL,
    certify_floats: bool = False,
) -> Report:
    """Exact interpolation check of ``T`` on ``ds`` (both readings: ARCHITECTURE.md, "Semantics").

    The report also holds the float64 forward's deviation from the targets and whether it stays
    within ``float_tol`` of them, relative to the data's scale (:func:`~exactinterp.verify.floats.data_scale`);
    ``certify_floats`` adds a certified bound of that deviation
    (:func:`~exactinterp.verify.floats.certified_float_bound`).
    """
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
                mismatches=[(i, _row_text(out[i]), _row_text(tgt[i])) for i in wrong[:MISMATCHES]],
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
        float_scale=data_scale(ds),
        float_tol=float_tol,
        float_bound=certified_float_bound(T, ds) if certify_floats else None,
    )
