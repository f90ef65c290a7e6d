"""The real-data chapter's figure: the row tokens of a few digits, block by block, through an exact model."""

from __future__ import annotations

import numpy as np

from ..core.dataset import Dataset
from ..core.transformer import Transformer
from . import plotting as P

__all__ = ["stage_blocks", "digits_through_blocks"]


def stage_blocks(T: Transformer, n_sep: int, n_leaders: int) -> list[tuple[str, int]]:
    """(title, number of blocks applied) for the stages of a narrow hardmax model shown by the figure."""
    box = n_sep + 1
    clustered = box + n_leaders
    return [
        ("input", 0),
        ("box", box),
        ("leaders", box + n_leaders // 2),
        ("clustered", clustered),
        ("output", T.num_blocks),
    ]


def _view(X: np.ndarray) -> np.ndarray:
    """2-D view of (row index, pixels) tokens: the row coordinate against the mean of the other coordinates."""
    F = P.as_float(X)
    return np.stack([F[:, 0], F[:, 1:].mean(axis=1)], axis=1)


def digits_through_blocks(
    ds: Dataset, images: np.ndarray, labels: list[int], T: Transformer, stages: list[tuple[str, int]]
):
    """Top: the digits; bottom: their 8 row tokens (row coordinate vs mean pixel) after the given numbers of blocks.

    Every token of a digit ends on the point (label, 0): the whole sequence is classified.
    """
    P.style()
    plt = P.plt
    states = list(T.states(ds.inputs))
    k, cols = len(ds.inputs), max(len(stages), len(ds.inputs))
    fig = plt.figure(figsize=(P.PAGE_WIDTH, 3.7))
    grid = fig.add_gridspec(2, cols, height_ratios=[1.0, 1.25], hspace=0.55, wspace=0.12)
    for j in range(k):
        ax = fig.add_subplot(grid[0, j])
        ax.imshow(images[j], cmap="gray_r", vmin=0, vmax=16)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(str(labels[j]), color=P.COLORS[j % len(P.COLORS)])
    for s, (title, nb) in enumerate(stages):
        ax = fig.add_subplot(grid[1, s])
        st = states[nb]
        for j in range(k):
            pts = _view(st.E[st.seq_slice(j)])
            m = P.MARKERS[j % len(P.MARKERS)]
            ax.scatter(pts[:, 0], pts[:, 1], s=30, marker=m, c=P.COLORS[j % len(P.COLORS)], ec="black", lw=0.4)
        ax.set_title(f"{title}\n{nb} block{'s' * (nb != 1)}")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.margins(0.18)
    return fig
