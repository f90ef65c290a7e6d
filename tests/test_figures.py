"""The figures' style keeps its promise: labels at least as large as the body text, figures no
wider than the content column (the HTML check measures the rest: retina pixels, no shrinking)."""

import re
from pathlib import Path

import matplotlib.pyplot as plt

from exactinterp.book.plotting import FONT_SIZE, PAGE_WIDTH, style

BOOK = Path(__file__).resolve().parents[1] / "lib" / "exactinterp" / "book"
BODY_PX, COLUMN_PX, PX_PER_INCH = 16, 688, 100  # body text and content column at 1280 px (reader.css)


def test_style_text_is_at_least_body_size():
    style()
    assert plt.rcParams["figure.dpi"] == PX_PER_INCH and plt.rcParams["savefig.dpi"] == 2 * PX_PER_INCH
    assert FONT_SIZE * PX_PER_INCH / 72 >= BODY_PX
    for key in ("font.size", "axes.titlesize", "axes.labelsize", "xtick.labelsize", "ytick.labelsize"):
        assert plt.rcParams[key] >= FONT_SIZE, key
    assert plt.rcParams["legend.fontsize"] >= FONT_SIZE


def test_page_width_fits_the_column():
    assert (PAGE_WIDTH + 0.2) * PX_PER_INCH <= COLUMN_PX  # 0.1 in of padding each side (tight bbox)


def test_no_figure_text_below_the_style_size():
    for path in BOOK.glob("*.py"):
        for m in re.finditer(r"fontsize\s*=\s*([0-9.]+)", path.read_text()):
            assert float(m.group(1)) >= FONT_SIZE, f"{path.name}: fontsize={m.group(1)}"
