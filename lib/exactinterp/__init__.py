"""exactinterp: exact transformer constructions for *Exact Sequence Interpolation with Transformers*.

Public API (see ARCHITECTURE.md)::

    from exactinterp import Dataset, Transformer, construct, verify

Packages: ``core`` (the model), ``construct`` (one module per proof step), ``verify`` (checks),
``training`` (JAX), ``book`` (chapter helpers), ``cli``; ``errors`` holds every exception.
"""

from . import _threads  # noqa: F401  (first: limits BLAS threads)
from .construct import construct
from .core import Block, Dataset, FeedForward, SelfAttention, Transformer
from .core.numbers import QQ, to_q
from .errors import ConstructionError, DatasetError, InputError, ModelError
from .verify import Report, verify

__all__ = [
    "Block",
    "ConstructionError",
    "Dataset",
    "DatasetError",
    "FeedForward",
    "InputError",
    "ModelError",
    "QQ",
    "Report",
    "SelfAttention",
    "Transformer",
    "construct",
    "to_q",
    "verify",
]
__version__ = "0.1.0"
