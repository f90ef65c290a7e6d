"""Size bookkeeping for the scaling chapter: the paper's bounds, prior memorisation bounds, our counts."""

from __future__ import annotations

import math

import numpy as np

from .dataset import Dataset
from .numbers import QQ
from .transformer import Transformer

__all__ = [
    "paper_blocks_hardmax",
    "paper_blocks_softmax",
    "ours_blocks_bound",
    "same_leaders",
    "PRIOR_WORK",
    "prior_parameters",
    "count_row",
]


def paper_blocks_hardmax(ds: Dataset) -> int:
    """The paper's hardmax block count L = 2 sum_j m^j + 2N + 1 (as reported in a third-party summary)."""
    return 2 * ds.sum_m + 2 * ds.N + 1


def paper_blocks_softmax(ds: Dataset) -> int:
    """The paper's softmax block count L = 2 sum_j m^j + 3N (same source)."""
    return 2 * ds.sum_m + 3 * ds.N


def ours_blocks_bound(sum_m: int, max_width: int | None) -> int:
    """Our hardmax bound: 2 + 2 ceil(P / floor(k / 4)) with P <= sum m leader points (4 if k is unbounded)."""
    if max_width is None:
        return 4
    return 2 + 2 * math.ceil(sum_m / (max_width // 4))


def same_leaders(base: Dataset, n: int, seed: int = 0) -> Dataset:
    """``base`` with every sequence padded to n tokens by fresh random non-leader tokens.

    The first m^j tokens (the leaders) and the outputs are kept, so the construction has the same
    leader points: only the input lengths change.
    """
    rng = np.random.default_rng(seed)
    inputs = []
    for j, X in enumerate(base.inputs):
        m = len(base.outputs[j])
        head = [list(t) for t in X[: max(m, 1)]]
        extra = rng.integers(-(10**6), 10**6 + 1, size=(max(n - len(head), 0), base.d))
        inputs.append(head + [[QQ(int(v), 10**5) for v in tok] for tok in extra])
    return Dataset(inputs, [list(map(list, Y)) for Y in base.outputs])


#: Prior memorisation results: (label, citation key, parameters as a function of (n, N, d), caveat).
PRIOR_WORK = [
    (
        "Kim, Kim, Mozafari 2023",
        "kim2023provable",
        lambda n, N, d: d + n + math.sqrt(n * N),
        "O~(d + n + sqrt(nN)) parameters, logarithmic factors and bit precision hidden",
    ),
    (
        "Kajitsuka, Sato 2025 (seq-to-seq)",
        "kajitsuka2025optimal",
        lambda n, N, d: math.sqrt(n * N),
        "O~(sqrt(nN)) sufficient and necessary for outputs of length n (one label per token)",
    ),
]


def prior_parameters(n: float, N: int, d: int) -> dict[str, float]:
    """Each prior bound evaluated with all hidden constants set to 1 (orders of growth only)."""
    return {label: f(n, N, d) for label, _, f, _ in PRIOR_WORK}


def count_row(T: Transformer, ds: Dataset) -> dict:
    """Blocks and parameters of a model next to the paper's formulas."""
    return {
        "N": ds.N,
        "max n": max(ds.n),
        "sum m": ds.sum_m,
        "blocks": T.num_blocks,
        "paper L (hardmax)": paper_blocks_hardmax(ds),
        "nonzero params": T.num_parameters,
        "d sum m": ds.d * ds.sum_m,
    }
