"""The model itself, and nothing above it: exact numbers, token states, layers, transformers, datasets.

``core`` imports nothing of the package outside ``core/`` except the leaf :mod:`exactinterp.errors`
(checked by import-linter). Modules, bottom up: ``numbers`` (exact scalars), ``state`` (tokens of
N sequences with a float shadow), ``scores`` (exact attention scores and hardmax maximiser sets),
``softmax`` (ball-arithmetic softmax and the temperature lemma's bound), ``feedforward``,
``attention``, ``transformer`` (``Block``, ``Transformer``), ``io`` (exact JSON, atomic writes),
``dataset``.
"""

from .attention import SelfAttention
from .dataset import Dataset
from .feedforward import FeedForward
from .state import State
from .transformer import Block, Transformer

__all__ = ["Block", "Dataset", "FeedForward", "SelfAttention", "State", "Transformer"]
