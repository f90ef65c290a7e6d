"""``Dataset``: N input sequences and their output sequences, validated (ARCHITECTURE.md, "Semantics")."""

from __future__ import annotations

import os
from collections import Counter
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np

from ..errors import DatasetError, InputError, NumberError
from .io import load_json_exact, write_json
from .numbers import QQ, denominator, equal_arrays, numerator, q_to_str, row_key, to_float_array, to_q

__all__ = ["Dataset", "FLOAT_MODES", "MAX_MAGNITUDE"]


def _token_key(tok: np.ndarray) -> tuple:
    return row_key(tok)


#: How float entries (Python or NumPy floats) are read: refused (the default), as their exact binary
#: value, or as the shortest decimal that rounds to them (the literal of a CSV file, e.g. 0.1 -> 1/10).
FLOAT_MODES = ("refuse", "exact", "decimal")

#: Largest |coordinate| a dataset may hold: the engine keeps float64 shadows of its exact values
#: (to propose decisions and for the float64 check), and these must not overflow.
MAX_MAGNITUDE = QQ(10) ** 300


class Dataset:
    """Validated dataset: ``inputs[j]`` is (n_j, d), ``outputs[j]`` is (m^j, d), exact rationals.

    Exact interpolation asks ``T(X^j)_k = y^j_k`` for k ≤ m^j and ``T(X^j)_i = y^j_1`` for every
    other token, so each token *value* of X^j has one target (its value map).

    ``inputs`` and ``outputs`` are lists of sequences (lists of tokens, or 2-D arrays) or 3-D arrays
    (N, n, d). Numbers are ints, ``"p/q"`` or decimal strings (read exactly), Fractions, rationals;
    floats only with ``floats="exact"`` (their binary value; ``allow_float=True`` is the same) or
    ``floats="decimal"`` (the shortest decimal that rounds to them) — see :meth:`from_arrays`.
    """

    def __init__(self, inputs: Any, outputs: Any, *, allow_float: bool = False, floats: str | None = None) -> None:
        mode = floats if floats is not None else ("exact" if allow_float else "refuse")
        if mode not in FLOAT_MODES:
            raise ValueError(f"floats must be one of {', '.join(map(repr, FLOAT_MODES))}, not {floats!r}")
        inputs, outputs = _as_sequences(inputs, "inputs"), _as_sequences(outputs, "outputs")
        if len(inputs) == 0:
            raise DatasetError("the dataset has no sequences (N = 0)")
        if len(inputs) != len(outputs):
            raise DatasetError(f"{_count(len(inputs), 'input sequence')} but {_count(len(outputs), 'output sequence')}")
        d = None
        self.inputs: list[np.ndarray] = []
        self.outputs: list[np.ndarray] = []
        for kind, seqs, store in (("input", inputs, self.inputs), ("output", outputs, self.outputs)):
            for j, seq in enumerate(seqs):
                arr, d = _parse_sequence(seq, kind, j, d, mode)
                store.append(arr)
        assert d is not None
        if d < 2:
            raise DatasetError(f"tokens have dimension d = {d}; the construction needs d >= 2")
        self.d = d
        for j, (X, Y) in enumerate(zip(self.inputs, self.outputs, strict=True)):
            if len(Y) == 0:
                raise DatasetError(f"sequence {j}: m = 0 output tokens (need 1 <= m <= n)")
            if len(Y) > len(X):
                raise DatasetError(f"sequence {j}: m = {len(Y)} outputs for n = {len(X)} inputs (need m <= n)")
        self._maps = [self._value_map(j) for j in range(self.N)]
        self._pkeys = [self._proportions_key(j) for j in range(self.N)]
        self._check_indistinguishable()

    # ------------------------------------------------------------------ sizes
    @property
    def N(self) -> int:
        return len(self.inputs)

    @property
    def n(self) -> list[int]:
        return [len(X) for X in self.inputs]

    @property
    def m(self) -> list[int]:
        return [len(Y) for Y in self.outputs]

    @property
    def sum_m(self) -> int:
        return sum(self.m)

    def __repr__(self) -> str:
        return f"Dataset(N={self.N}, d={self.d}, n={_span(self.n)}, m={_span(self.m)}, sum_m={self.sum_m})"

    def __eq__(self, other: object) -> bool:
        """Same sequences with the same exact tokens, in the same order (holds after a JSON round trip)."""
        if not isinstance(other, Dataset):
            return NotImplemented
        mine, theirs = self.inputs + self.outputs, other.inputs + other.outputs
        return self.N == other.N and len(mine) == len(theirs) and equal_arrays(zip(mine, theirs, strict=True))

    __hash__ = None  # mutable arrays inside: equal datasets need not share a hash

    # ------------------------------------------------------------------ semantics
    def targets(self, j: int) -> np.ndarray:
        """Target of every input token of sequence j: y_k for k ≤ m, y_1 for the others."""
        X, Y = self.inputs[j], self.outputs[j]
        out = np.empty_like(X)
        out[: len(Y)] = Y
        out[len(Y) :] = Y[0]
        return out

    def value_map(self, j: int) -> dict[tuple, tuple]:
        """Token value → target value of sequence j (tuples of QQ; well defined after validation)."""
        X, T = self.inputs[j], self.targets(j)
        return {tuple(x): tuple(t) for x, t in zip(X, T, strict=True)}

    def _value_map(self, j: int) -> dict[tuple, int]:
        """Token key → index of its target in Y^j (0 for non-leaders); raises on a conflict."""
        X, Y = self.inputs[j], self.outputs[j]
        m = len(Y)
        vm: dict[tuple, int] = {}
        first: dict[tuple, int] = {}
        for i, x in enumerate(X):
            k, ti = _token_key(x), (i if i < m else 0)
            t0 = vm.get(k)
            if t0 is None:
                vm[k], first[k] = ti, i
            elif t0 != ti and list(Y[t0]) != list(Y[ti]):
                i0 = first[k]
                raise DatasetError(
                    f"sequence {j}: tokens {i0} and {i} are equal ({_fmt(x)}) but must go to "
                    f"different outputs ({_fmt(Y[t0])} and {_fmt(Y[ti])}); a transformer "
                    "maps equal tokens of one sequence to equal outputs"
                )
        return {k: row_key(Y[t]) for k, t in vm.items()}

    def proportions_key(self, j: int) -> tuple:
        """The empirical distribution of X^j (token keys with their proportions)."""
        return self._pkeys[j]

    def _proportions_key(self, j: int) -> tuple:
        X = self.inputs[j]
        c = Counter(_token_key(x) for x in X)
        n = len(X)
        return tuple(sorted((k, Fraction(v, n)) for k, v in c.items()))

    def _check_indistinguishable(self) -> None:
        seen: dict[tuple, int] = {}
        for j in range(self.N):
            key = self.proportions_key(j)
            if key in seen:
                i = seen[key]
                if self._maps[i] != self._maps[j]:
                    bad = next(k for k in self._maps[i] if self._maps[i][k] != self._maps[j][k])
                    tok = next(x for x in self.inputs[i] if row_key(x) == bad)
                    ti, tj = (self.value_map(s)[tuple(tok)] for s in (i, j))
                    raise DatasetError(
                        f"sequences {i} and {j} hold the same tokens in the same proportions but ask "
                        f"token {_fmt(tok)} to go to {_fmt(ti)} and to {_fmt(tj)}: every attention "
                        "average is the same on both, so no transformer can tell them apart"
                    )
            else:
                seen[key] = j

    def classes(self) -> list[list[int]]:
        """Groups of sequences with equal distributions (each group shares one value map)."""
        groups: dict[tuple, list[int]] = {}
        for j in range(self.N):
            groups.setdefault(self.proportions_key(j), []).append(j)
        return list(groups.values())

    # ------------------------------------------------------------------ I/O
    def to_dict(self) -> dict:
        def seq(a):
            return [[q_to_str(v) for v in tok] for tok in a]

        return {"inputs": [seq(X) for X in self.inputs], "outputs": [seq(Y) for Y in self.outputs]}

    @classmethod
    def from_arrays(cls, inputs: Any, outputs: Any, *, floats: str = "refuse") -> Dataset:
        """A dataset from NumPy arrays: ``inputs`` (N, n, d) or a list of (n_j, d) arrays, ``outputs`` likewise.

        Integer arrays are exact as they are. Float arrays need a choice: ``floats="exact"`` reads
        each float's binary value (0.1 becomes 3602879701896397/2^55), ``floats="decimal"`` the
        shortest decimal that rounds to it (0.1 becomes 1/10: what a CSV file held). The default
        refuses floats, naming both options.
        """
        return cls(inputs, outputs, floats=floats)

    @classmethod
    def from_dict(cls, data: Any) -> Dataset:
        if not isinstance(data, dict):
            raise DatasetError("a dataset must be a JSON object with 'inputs' and 'outputs'")
        missing = [k for k in ("inputs", "outputs") if k not in data]
        if missing:
            raise DatasetError(f"dataset is missing {' and '.join(repr(k) for k in missing)}")
        return cls(data["inputs"], data["outputs"])

    @classmethod
    def from_json(cls, path_or_text: str | os.PathLike | dict) -> Dataset:
        """Read a dataset from a path, from JSON text starting with '{', or from an already parsed dict.

        Every failure is a DatasetError.
        """
        if isinstance(path_or_text, dict):
            return cls.from_dict(path_or_text)
        try:
            data = load_json_exact(path_or_text, what="dataset")
        except DatasetError:
            raise
        except InputError as exc:
            raise DatasetError(str(exc)) from None
        return cls.from_dict(data)

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        """JSON text of the dataset; written atomically to ``path`` if given."""
        return write_json(self.to_dict(), path)

    def float_inputs(self) -> list[np.ndarray]:
        return [to_float_array(X) for X in self.inputs]


def _fmt(tok: Any) -> str:
    return "(" + ", ".join(q_to_str(v) for v in tok) + ")"


def _count(n: int, noun: str) -> str:
    """``1 sequence``, ``2 sequences``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _span(values: list[int]) -> str:
    lo, hi = min(values), max(values)
    return str(lo) if lo == hi else f"{lo}..{hi}"


def _as_sequences(seqs: Any, name: str) -> list:
    """The list of sequences of ``inputs`` / ``outputs``: a list or tuple, or an array (N, n, d)."""
    if isinstance(seqs, np.ndarray):
        if seqs.ndim == 3:
            return list(seqs)
        raise DatasetError(
            f"'{name}' is an array of shape {seqs.shape}: pass a 3-D array (N, n, d) or a list of (n_j, d) arrays"
        )
    if not isinstance(seqs, (list, tuple)):
        raise DatasetError("'inputs' and 'outputs' must be lists of sequences")
    return list(seqs)


def _number(v: Any, mode: str) -> Any:
    """One coordinate as an exact rational (NumberError with the reason)."""
    if isinstance(v, (float, np.floating)) and mode == "decimal":
        if not np.isfinite(v):
            raise NumberError(f"{float(v)!r} is not a finite number")
        v = repr(float(v))  # the shortest decimal that rounds to v
    elif isinstance(v, (float, np.floating)) and mode == "refuse":
        raise NumberError(
            f"float {float(v)!r} refused: floats are not exact. Write it as an int, a decimal string such as "
            '"0.1" or a fraction "p/q", or choose a conversion: Dataset.from_arrays(..., floats="decimal") '
            '(the shortest decimal, 0.1 -> 1/10) or floats="exact" (the binary value)'
        )
    if v is None:
        raise NumberError("null is not a number (expected an int, a decimal or 'p/q')")
    if isinstance(v, bool):
        raise NumberError(f"{str(v).lower()} is a boolean, not a number")
    q = to_q(v, allow_float=True)
    if abs(q) > MAX_MAGNITUDE:
        raise NumberError(f"{_magnitude(q)} is too large: |x| <= 1e300 is supported (float64 shadows would overflow)")
    return q


def _magnitude(q: Any) -> str:
    """A huge rational in scientific notation (``-1.2e+305``), without a float conversion."""
    digits = str(abs(numerator(q)) // denominator(q))
    return f"{'-' if q < 0 else ''}{digits[0]}.{digits[1:3] or '0'}e+{len(digits) - 1}"


def _parse_sequence(seq: Any, kind: str, j: int, d: int | None, mode: str):
    if isinstance(seq, np.ndarray):
        seq = seq.tolist() if seq.dtype != object else list(seq)
    if not isinstance(seq, (list, tuple)):
        raise DatasetError(f"{kind} sequence {j} is not a list of tokens")
    if len(seq) == 0:
        raise DatasetError(f"{kind} sequence {j} is empty")
    rows = []
    for i, tok in enumerate(seq):
        if isinstance(tok, np.ndarray):
            tok = list(tok)
        if not isinstance(tok, (list, tuple)):
            got = "a number" if isinstance(tok, (int, float, str, Decimal)) and not isinstance(tok, bool) else "not"
            hint = (
                " (a level of brackets is missing: a sequence is a list of tokens [[x1, ..., xd], ...])"
                if got == "a number"
                else ""
            )
            raise DatasetError(f"{kind} sequence {j}, token {i}: a token must be a list of numbers{hint}")
        if d is None:
            d = len(tok)
        if len(tok) != d:
            raise DatasetError(
                f"{kind} sequence {j}, token {i}: has {len(tok)} coordinates, expected d = {d} (ragged rows)"
            )
        row = []
        for c, v in enumerate(tok):
            try:
                row.append(_number(v, mode))
            except NumberError as exc:
                raise DatasetError(f"{kind} sequence {j}, token {i}, coordinate {c}: {exc}") from None
        rows.append(row)
    arr = np.empty((len(rows), d), dtype=object)
    for i, r in enumerate(rows):
        arr[i, :] = r
    return arr, d
