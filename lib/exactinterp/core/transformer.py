"""``Block`` (SA after FF) and ``Transformer`` (a stack of blocks): exact and float forwards, counts, JSON I/O."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm import tqdm

from ..errors import LayerError, ModelError, NumberError
from .attention import SelfAttention
from .feedforward import FeedForward
from .io import load_json_exact, write_json
from .numbers import equal_arrays, max_bits, q_matrix, to_float_array
from .state import State

__all__ = ["Block", "Transformer", "FORMAT", "VERSION"]

FORMAT = "exactinterp.transformer"
VERSION = 1


@dataclass(eq=False)
class Block:
    """``SA ∘ FF``: the feed-forward layer first, then self-attention (the paper's Figure 3)."""

    ff: FeedForward
    sa: SelfAttention

    def __post_init__(self) -> None:
        if self.ff.d != self.sa.d:
            raise LayerError(f"FF acts on d = {self.ff.d} but SA on d = {self.sa.d}")

    @classmethod
    def identity(cls, d: int) -> Block:
        return cls(FeedForward.identity(d), SelfAttention.identity(d))

    @property
    def d(self) -> int:
        return self.ff.d

    @property
    def is_identity(self) -> bool:
        return self.ff.is_identity and self.sa.is_identity

    def num_parameters(self, dense: bool = False) -> int:
        return self.ff.num_parameters(dense) + self.sa.num_parameters(dense)

    def apply(self, st: State, inplace: bool = False) -> State:
        """SA(FF(st)), on a copy unless ``inplace``."""
        return self.sa.apply(self.ff.apply(st, inplace), inplace=True)

    def forward_float(self, X: np.ndarray, dtype: Any = np.float64) -> np.ndarray:
        return self.sa.forward_float(self.ff.forward_float(X, dtype), dtype)

    def forward_float_stacked(self, F: np.ndarray, offsets: np.ndarray, dtype: Any = np.float64) -> np.ndarray:
        return self.sa.forward_float_stacked(self.ff.forward_float(F, dtype, inplace=True), offsets, dtype)

    def to_dict(self) -> dict:
        return {"ff": self.ff.to_dict(), "sa": self.sa.to_dict()}

    @classmethod
    def from_dict(cls, d: dict, dim: int) -> Block:
        return cls(FeedForward.from_dict(d["ff"], dim), SelfAttention.from_dict(d["sa"], dim))


@dataclass(eq=False)
class Transformer:
    """``T = TB^L ∘ ... ∘ TB^1`` acting on sequences of tokens in R^d (rows)."""

    d: int
    blocks: list[Block] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.d < 1:
            raise ModelError("d must be positive")
        for i, b in enumerate(self.blocks):
            if b.d != self.d:
                raise ModelError(f"block {i} acts on d = {b.d}, the model on d = {self.d}")

    # ------------------------------------------------------------------ structure
    @property
    def num_blocks(self) -> int:
        return len(self.blocks)

    @property
    def num_parameters(self) -> int:
        """Nonzero parameter entries over all blocks."""
        return sum(b.num_parameters() for b in self.blocks)

    @property
    def num_parameters_dense(self) -> int:
        """All parameter entries (zeros included) over all blocks."""
        return sum(b.num_parameters(dense=True) for b in self.blocks)

    @property
    def is_hardmax(self) -> bool:
        return all(b.sa.is_hardmax for b in self.blocks)

    def max_bits(self) -> tuple[int, int]:
        """Largest numerator / denominator bit lengths among all parameters."""
        vals: list[Any] = []
        for b in self.blocks:
            for a in (b.ff.U, b.ff.b, b.ff.W, b.sa.Q, b.sa.K, b.sa.V):
                vals.extend(np.ravel(a))
            vals += [b.ff.eta, b.sa.rho, b.sa.tau]
        return max_bits(vals)

    def __add__(self, other: Transformer) -> Transformer:
        if other.d != self.d:
            raise ModelError("cannot compose models of different dimension")
        return Transformer(self.d, self.blocks + other.blocks)

    @classmethod
    def identity(cls, d: int, num_blocks: int = 1) -> Transformer:
        return cls(d, [Block.identity(d) for _ in range(num_blocks)])

    # ------------------------------------------------------------------ forward
    def _check_input(self, X: Any) -> np.ndarray:
        arr = X if isinstance(X, np.ndarray) and X.dtype == object else q_matrix(X)
        if arr.ndim != 2 or arr.shape[1] != self.d:
            raise ModelError(f"input tokens have dimension {arr.shape[-1]}, the model expects {self.d}")
        return arr

    def states(self, inputs: Sequence[Any], progress: bool = False) -> Iterable[State]:
        """Exact token states after each block (the input state first)."""
        st = State.from_sequences([self._check_input(X) for X in inputs])
        yield st
        blocks = self.blocks
        if progress:
            blocks = tqdm(blocks, desc="exact forward", unit="block", leave=False)
        for b in blocks:
            st = b.apply(st)
            yield st

    def forward_many(self, inputs: Sequence[Any], exact: bool = True, progress: bool = False, dtype: Any = np.float64):
        """Forward of several sequences at once (exact: object arrays; else ``dtype`` arrays, stacked)."""
        if not exact:
            arrays = [self._float_input(X) for X in inputs]
            offsets = np.cumsum([0] + [len(X) for X in arrays])
            F = np.concatenate(arrays, axis=0) if arrays else np.empty((0, self.d))
            out = self.forward_stacked(F, offsets, dtype)
            return [out[offsets[j] : offsets[j + 1]] for j in range(len(arrays))]
        st = State.from_sequences([self._check_input(X) for X in inputs])
        blocks = self.blocks
        if progress:
            blocks = tqdm(blocks, desc="exact forward", unit="block", leave=False)
        for b in blocks:
            st = b.apply(st, inplace=True)  # a private state: no copies
        return st.sequences()

    def forward_stacked(self, F: np.ndarray, offsets: Sequence[int], dtype: Any = np.float64) -> np.ndarray:
        """Float forward of all sequences in one pass: ``F`` (n_total, d) stacks them, sequence j is rows
        ``offsets[j]:offsets[j+1]``. Bit for bit the same as :meth:`forward` on each sequence alone.
        """
        offsets = np.asarray(offsets, dtype=np.int64)
        out = np.array(F, dtype=dtype)  # a private copy: layers may return their input
        if out.ndim != 2 or out.shape[1] != self.d:
            raise ModelError(f"input tokens have dimension {out.shape[-1]}, the model expects {self.d}")
        for b in self.blocks:
            out = b.forward_float_stacked(out, offsets, dtype)
        return out

    def _float_input(self, X: Any) -> np.ndarray:
        if isinstance(X, np.ndarray) and X.dtype == object:
            Xf = to_float_array(X)
        else:
            Xf = np.asarray(X, dtype=np.float64)
        if Xf.ndim != 2 or Xf.shape[1] != self.d:
            raise ModelError(f"input tokens have dimension {Xf.shape[-1]}, the model expects {self.d}")
        return Xf

    def forward(self, X: Any, exact: bool = True, dtype: Any = np.float64) -> np.ndarray:
        """Forward of one sequence (n, d): exact rationals (balls after softmax), or floats of ``dtype``.

        The float forward rounds the input and every weight to ``dtype`` (float64 or float32).
        """
        if exact:
            return self.forward_many([X])[0]
        Xf = self._float_input(X)
        return self.forward_stacked(Xf, [0, len(Xf)], dtype)

    __call__ = forward

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "version": VERSION,
            "d": self.d,
            "blocks": [b.to_dict() for b in self.blocks],
        }

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        """JSON text of the model (book/model_format.md); written atomically to ``path`` if given."""
        return write_json(self.to_dict(), path)

    @classmethod
    def from_dict(cls, data: Any) -> Transformer:
        if not isinstance(data, dict):
            raise ModelError("a model file must hold a JSON object")
        if data.get("format") != FORMAT:
            raise ModelError(f"not a model file: 'format' must be {FORMAT!r}")
        if data.get("version") != VERSION:
            raise ModelError(f"unsupported model version {data.get('version')!r} (expected {VERSION})")
        d = data.get("d")
        if not isinstance(d, int) or isinstance(d, bool) or d < 1:
            raise ModelError("'d' must be a positive integer")
        blocks = data.get("blocks")
        if not isinstance(blocks, list):
            raise ModelError("'blocks' must be a list")
        out = []
        for i, b in enumerate(blocks):
            try:
                if not isinstance(b, dict) or not isinstance(b.get("ff"), dict) or not isinstance(b.get("sa"), dict):
                    raise ModelError("each block needs objects 'ff' and 'sa'")
                out.append(Block.from_dict(b, d))
            except (KeyError, TypeError) as exc:
                raise ModelError(f"block {i}: missing or malformed field {exc}") from None
            except (LayerError, NumberError, ModelError) as exc:
                raise ModelError(f"block {i}: {exc}") from None
        return cls(d, out)

    @classmethod
    def from_json(cls, path_or_text: str | os.PathLike) -> Transformer:
        """Read a model from a path (or from JSON text starting with '{')."""
        return cls.from_dict(load_json_exact(path_or_text, what="model"))

    # ------------------------------------------------------------------ repr and equality
    def __repr__(self) -> str:
        kind = "hardmax" if self.is_hardmax else "softmax"
        width = max((b.ff.width for b in self.blocks), default=0)
        return (
            f"Transformer(d={self.d}, blocks={self.num_blocks}, {kind}, FF width <= {width}, "
            f"nonzero parameters={self.num_parameters})"
        )

    def __eq__(self, other: object) -> bool:
        """The same blocks with exactly the same weights (holds after a JSON round trip)."""
        if not isinstance(other, Transformer):
            return NotImplemented
        if self.d != other.d or self.num_blocks != other.num_blocks:
            return False
        return all(_same_block(a, b) for a, b in zip(self.blocks, other.blocks, strict=True))

    __hash__ = None  # mutable weights: equal models need not share a hash


def _same_block(a: Block, b: Block) -> bool:
    fa, fb, sa, sb = a.ff, b.ff, a.sa, b.sa
    scalars = fa.eta == fb.eta and sa.rho == sb.rho and sa.tau == sb.tau
    return scalars and equal_arrays(
        [(fa.U, fb.U), (fa.b, fb.b), (fa.W, fb.W), (sa.Q, sb.Q), (sa.K, sb.K), (sa.V, sb.V)]
    )
