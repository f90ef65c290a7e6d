"""Checks, never constructions: exact interpolation, float forwards, margins, the lemmas' predictions.

``report`` (:func:`verify`: the exact check of both readings of exact interpolation, the float64
deviation, the softmax certificate), ``margins`` (exact hardmax margins, float traces), ``lemmas``
(predictions computed from the lemmas' statements), ``temperature`` (the temperature lemma checked
in mpmath). Nothing here imports :mod:`exactinterp.construct` (checked by import-linter).
"""

from .report import Report, SequenceReport, verify

__all__ = ["Report", "SequenceReport", "verify"]
