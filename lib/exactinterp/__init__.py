"""exactinterp: exact transformer constructions for *Exact Sequence Interpolation with Transformers*.

Public API (DESIGN §4)::

    from exactinterp import Dataset, Transformer, construct, verify
"""

from . import _threads  # noqa: F401  (first: limits BLAS threads)
from .construct import ConstructionError, construct
from .dataset import Dataset, DatasetError, InputError
from .layers import Block, FeedForward, SelfAttention
from .numbers import QQ, to_q
from .transformer import ModelError, Transformer
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
