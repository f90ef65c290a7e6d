"""Exact scalars: SymPy's rational domain ``QQ`` (flint- or gmpy2-backed when installed).

Every exact quantity of the engine is an element of ``QQ``. Floats never enter exact code
silently: :func:`to_q` refuses them unless the caller asks for an exact conversion of the
binary value (``allow_float=True``), which is a documented boundary.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

import numpy as np
from sympy import Rational
from sympy.polys.domains import QQ

from ..errors import LayerError, NumberError

__all__ = [
    "NonFinite",
    "QQ",
    "Q",
    "to_q",
    "q_to_str",
    "q_matrix",
    "q_vector",
    "to_float_array",
    "numerator",
    "denominator",
    "bits",
    "max_bits",
    "ZERO",
    "ONE",
    "row_key",
    "RowKey",
    "exact_dot",
    "is_zero",
    "equal_arrays",
    "parameter_count",
    "layer_matrix",
]

Q = type(QQ(0))  #: the concrete rational type (flint ``fmpq``, gmpy2 ``mpq`` or SymPy's own)
ZERO = QQ(0)
ONE = QQ(1)

_FRACTION_RE = re.compile(r"^\s*([+-]?\d+)\s*/\s*([+-]?\d+)\s*$")
_DECIMAL_RE = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")
#: Largest decimal exponent accepted in a literal: keeps "1e999999999" from eating memory.
MAX_EXPONENT = 4000
#: Largest number of digits accepted in one literal.
MAX_DIGITS = 20000


def _from_decimal(value: Decimal, text: str) -> Any:
    if not value.is_finite():
        raise NumberError(f"{text!r} is not a finite number")
    sign, digits, exponent = value.as_tuple()
    if abs(exponent) > MAX_EXPONENT or len(digits) > MAX_DIGITS:
        raise NumberError(f"{text[:40]!r} is too large to handle exactly")
    frac = Fraction(value)
    return QQ(frac.numerator, frac.denominator)


class NonFinite(str):
    """A JSON ``NaN``/``Infinity`` literal, kept as a marker by the reader so the error can say where it is."""


def to_q(x: Any, *, allow_float: bool = False) -> Any:
    """Parse one exact number: int, ``"p/q"``, decimal literal (read exactly), Fraction, Rational."""
    if isinstance(x, Q):
        return x
    if isinstance(x, NonFinite):
        raise NumberError(f"{x} is not a finite number (JSON must not contain NaN or Infinity)")
    if isinstance(x, bool):
        raise NumberError(f"{x!r} is a boolean, not a number")
    if isinstance(x, (int, np.integer)):
        if int(x).bit_length() > MAX_EXPONENT * 4:
            raise NumberError("integer is too large to handle")
        return QQ(int(x))
    if isinstance(x, Rational):
        return QQ(int(x.p), int(x.q))
    if isinstance(x, Decimal):
        return _from_decimal(x, str(x))
    if isinstance(x, (float, np.floating)):
        return _from_float(float(x), allow_float)
    if isinstance(x, str):
        return _from_text(x)
    if hasattr(x, "numerator") and hasattr(x, "denominator"):  # Fraction, gmpy2.mpq, PythonMPQ, ...
        return QQ(int(x.numerator), int(x.denominator))
    raise NumberError(f"{type(x).__name__} value {x!r} is not a number")


def _from_float(x: float, allow_float: bool) -> Any:
    """The exact binary value of a float, only when the caller opts in (a documented boundary)."""
    if not allow_float:
        raise NumberError(
            f"float {x!r} refused in exact mode: write it as an int, a decimal string such as "
            '"0.1" or a fraction "p/q" (or pass allow_float=True to convert its binary value exactly)'
        )
    if not math.isfinite(x):
        raise NumberError(f"{x!r} is not a finite number")
    frac = Fraction(x)
    return QQ(frac.numerator, frac.denominator)


def _from_text(x: str) -> Any:
    """A number literal: ``"p/q"`` or a decimal (read exactly as written)."""
    if len(x) > MAX_DIGITS:
        raise NumberError(f"number literal of {len(x)} characters is too long")
    m = _FRACTION_RE.match(x)
    if m:
        p, q = int(m.group(1)), int(m.group(2))
        if q == 0:
            raise NumberError(f"{x!r}: zero denominator")
        return QQ(p, q)
    if _DECIMAL_RE.match(x):
        try:
            return _from_decimal(Decimal(x.strip()), x)
        except InvalidOperation as exc:  # pragma: no cover - regex already filters
            raise NumberError(f"{x!r} is not a number") from exc
    raise NumberError(f"{x!r} is not a number (expected an int, a decimal or 'p/q')")


class RowKey:
    """Exact hashable key of a row of rationals: equal keys iff equal rows.

    It holds the row's values (no copies: ~150 bytes for d = 8) and a hash of their float64
    roundings (equal rationals round equally, so equal rows hash equally; a collision of different
    rows is told apart by the exact comparison). Hashing a flint rational itself is slow.
    """

    __slots__ = ("_vals", "_hash")

    def __init__(self, vals: tuple) -> None:
        self._vals = vals
        try:
            self._hash = hash(tuple(map(float, vals)))
        except OverflowError:  # beyond float64: hash the exact values
            self._hash = hash(tuple((numerator(v), denominator(v)) for v in vals))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RowKey) and self._hash == other._hash and self._vals == other._vals

    def __lt__(self, other: RowKey) -> bool:  # lexicographic on the exact values (canonical sort orders)
        return self._vals < other._vals

    def __repr__(self) -> str:
        return f"RowKey({', '.join(q_to_str(v) for v in self._vals)})"


def row_key(row: Iterable[Any]) -> RowKey:
    """Fast exact hashable key of a row of rationals (equal keys iff equal rows)."""
    return RowKey(tuple(row.tolist() if isinstance(row, np.ndarray) else row))


def numerator(q: Any) -> int:
    """Numerator of a ``QQ`` element as a Python int."""
    return int(q.p) if hasattr(q, "p") else int(q.numerator)


def denominator(q: Any) -> int:
    """Denominator of a ``QQ`` element as a Python int."""
    return int(q.q) if hasattr(q, "q") else int(q.denominator)


def bits(q: Any) -> tuple[int, int]:
    """Bit lengths (numerator, denominator) of a rational."""
    return abs(numerator(q)).bit_length(), denominator(q).bit_length()


def max_bits(values: Iterable[Any]) -> tuple[int, int]:
    """Largest numerator and denominator bit lengths over ``values``."""
    bn = bd = 0
    for v in values:
        n, d = bits(v)
        bn, bd = max(bn, n), max(bd, d)
    return bn, bd


def q_to_str(q: Any) -> str:
    """Canonical text of a rational: ``"p"`` or ``"p/q"``."""
    p, d = numerator(q), denominator(q)
    return str(p) if d == 1 else f"{p}/{d}"


def q_vector(values: Sequence[Any], *, allow_float: bool = False) -> np.ndarray:
    """1-D object array of ``QQ`` elements."""
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        out[i] = to_q(v, allow_float=allow_float)
    return out


def q_matrix(rows: Any, *, shape: tuple[int, int] | None = None, allow_float: bool = False) -> np.ndarray:
    """2-D object array of ``QQ`` elements from a list of rows (or an array)."""
    if isinstance(rows, np.ndarray) and rows.dtype == object and rows.ndim == 2:
        arr = rows
    else:
        rows = [list(r) for r in rows]
        width = len(rows[0]) if rows else (shape[1] if shape else 0)
        if any(len(r) != width for r in rows):
            raise NumberError("ragged matrix: rows have different lengths")
        arr = np.empty((len(rows), width), dtype=object)
        for i, r in enumerate(rows):
            for j, v in enumerate(r):
                arr[i, j] = to_q(v, allow_float=allow_float)
    if shape is not None and arr.shape != shape:
        raise NumberError(f"matrix has shape {arr.shape}, expected {shape}")
    return arr


def to_float_array(a: np.ndarray) -> np.ndarray:
    """float64 copy of an object array of rationals (the documented exact → float boundary)."""
    flat = np.ravel(a)
    return np.fromiter(map(float, flat.tolist()), dtype=np.float64, count=flat.size).reshape(np.shape(a))


def exact_dot(row: Sequence[Any], x: Sequence[Any]) -> Any:
    """Exact inner product, skipping the exactly zero rational coefficients of ``row`` (entries may be
    rationals or balls; a ball coefficient is always used, even one that contains 0)."""
    s = ZERO
    for a, v in zip(row, x.tolist() if isinstance(x, np.ndarray) else x, strict=True):
        if type(a) is not Q or a:
            s = s + a * v
    return s


def equal_arrays(pairs: Iterable[tuple[np.ndarray, np.ndarray]]) -> bool:
    """True when every pair of exact arrays has one shape and equal entries."""
    return all(a.shape == b.shape and bool(np.all(a == b)) for a, b in pairs)


def is_zero(a: np.ndarray) -> bool:
    """True when every entry of ``a`` is exactly 0."""
    return all(v == 0 for v in np.ravel(a))


def parameter_count(arrays: Sequence[np.ndarray], skip: Any, dense: bool = False) -> int:
    """A layer's parameters: the nonzero entries of its weights and its scalar skip (all entries if ``dense``)."""
    if dense:
        return sum(a.size for a in arrays) + 1
    return int(sum(sum(1 for v in np.ravel(a) if v != 0) for a in arrays)) + (skip != 0)


def layer_matrix(a: Any, rows: int, name: str, cols: int | None = None) -> np.ndarray:
    """A layer's weight matrix as a 2-D object array of rationals, with its shape checked (LayerError)."""
    if isinstance(a, np.ndarray) and a.dtype == object and a.ndim == 2:
        out = a
    else:
        lst = [list(r) for r in a]
        if len(lst) == 0:
            return np.empty((0, cols or 0), dtype=object)
        out = q_matrix(lst)
    if out.shape[0] != rows:
        raise LayerError(f"{name} has {out.shape[0]} rows, expected {rows}")
    if cols is not None and out.shape[1] != cols:
        raise LayerError(f"{name} has {out.shape[1]} columns, expected {cols}")
    return out
