"""Built-HTML check: what a reader sees in _build/html, measured in headless Chromium.

* every page renders its mathematics offline and loads its figures;
* at a 1280 px window nothing is clipped: no code, output, equation or table needs a scroll bar,
  and nothing sticks out of the content column;
* at a 390 px phone width nothing makes the page scroll sideways: code and output lines wrap,
  and what cannot wrap (an equation, a table, the proof map) scrolls inside its own frame;
* every figure is a retina image (at least twice as many pixels as it is shown with) and is
  shown at its full size, so its 12-point labels are larger than the body text;
* the book's PDF (``make pdf``) exists, has a page per chapter at least, and no page is empty.

Runs in ``make html-check`` (after ``make book`` or ``make book-committed``, and ``make pdf``);
set REQUIRE_HTML_CHECK=1 to make a missing build or browser an error instead of a skip.
"""

import os
import re
from pathlib import Path

import pypdf
import pytest
from bs4 import BeautifulSoup
from chromium import CHROMIUM, Browser

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
PDF = HTML / "exactinterp.pdf"
PAGES = sorted((HTML / "book").glob("*.html")) if (HTML / "book").is_dir() else []
REQUIRED = bool(os.environ.get("REQUIRE_HTML_CHECK"))
pytestmark = pytest.mark.skipif(
    (not CHROMIUM or not PAGES) and not REQUIRED, reason="needs chromium and a built book (make book)"
)
DESKTOP, PHONE = 1280, 390
MIN_FIGURE_PIXELS = 600  # natural width of the narrowest figure image (a 3-inch figure at 200 px/in)

# Measures the page in the browser. A "frame" is an element that scrolls its content sideways
# when it is too wide for it (code, output, a display equation, a table, the proof map).
LAYOUT = r"""
(() => {
  const art = document.querySelector("article.bd-article");
  const cs = getComputedStyle(art);
  const box = art.getBoundingClientRect();
  const right = box.right - parseFloat(cs.paddingRight) + 1;
  const describe = (el) => {
    const text = (el.innerText || el.textContent || "").trim().replace(/\s+/g, " ");
    const what = `${el.tagName.toLowerCase()}.${String(el.className).split(" ")[0]}`;
    return `${what}: ${Array.from(text).slice(0, 90).join("")}`;
  };
  const frames = art.querySelectorAll(
    "pre, div.math, mjx-container[display='true'], table, div.pst-scrollable-table-container, " +
    "div.output.text_html, div.proofmap-figure");
  const scrolling = [...frames].filter((el) => el.scrollWidth > el.clientWidth + 1)
    .map((el) => ({what: describe(el), tag: el.tagName.toLowerCase(), excess: el.scrollWidth - el.clientWidth}));
  const clipsX = (el) => ["auto", "scroll", "hidden", "clip"].includes(getComputedStyle(el).overflowX);
  const sticking = [];
  for (const el of art.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= right) continue;
    if (el.closest(".full-width") && r.right <= innerWidth) continue;  // the proof map may use the margin
    let p = el.parentElement, inFrame = false;
    while (p && p !== art) { if (clipsX(p)) { inFrame = true; break; } p = p.parentElement; }
    if (!inFrame) sticking.push({what: describe(el), excess: Math.round(r.right - right)});
  }
  const images = [...art.querySelectorAll("img")].map((img) => ({
    src: img.getAttribute("src"), natural: img.naturalWidth, shown: img.getBoundingClientRect().width}));
  return {scrolling, sticking, images, page: document.documentElement.scrollWidth, viewport: innerWidth};
})()
"""


def is_math(tag) -> bool:
    cls = tag.get("class") or []
    return "math" in cls and "notranslate" in cls


@pytest.fixture(scope="module")
def measured():
    """Each page loaded once, measured at 1280 px, then narrowed to 390 px and measured again."""
    cache: dict[Path, dict] = {}
    with Browser(width=DESKTOP) as browser:

        def measure(page: Path) -> dict:
            if page not in cache:
                browser.set_width(DESKTOP)
                browser.load(page)
                html = browser.evaluate("document.documentElement.outerHTML")
                desktop = browser.evaluate(LAYOUT)
                browser.set_width(PHONE)
                browser.evaluate("new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
                cache[page] = {"html": html, DESKTOP: desktop, PHONE: browser.evaluate(LAYOUT)}
            return cache[page]

        yield measure


def test_book_was_built():
    assert (HTML / "index.html").exists(), "run make book first"
    assert PAGES


def test_built_html_has_no_external_assets():
    for page in PAGES:
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for tag in soup.find_all(["script", "link", "img"]):
            url = tag.get("src") or tag.get("href") or ""
            if tag.name == "link" and "stylesheet" not in (tag.get("rel") or []):
                continue
            assert not re.match(r"(https?:)?//", url), f"{page.name}: external asset {url}"


def _listing(rows: list[dict]) -> str:
    return "\n  ".join(f"{r['what']} (+{r['excess']} px)" for r in rows[:12])


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_desktop_page_renders_and_nothing_is_clipped(page, measured):
    static = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    n_math = len(static.find_all(is_math))
    for img in static.find_all("img"):
        src = img.get("src", "")
        if src.startswith("data:"):
            continue
        target = (page.parent / src.split("?")[0]).resolve()
        assert target.is_file() and target.stat().st_size > 100, f"{page.name}: figure {src} missing"
    soup = BeautifulSoup(measured(page)["html"], "html.parser")
    maths = soup.find_all(is_math)
    assert len(maths) == n_math
    for el in maths:
        assert el.find("mjx-container") is not None, f"not typeset: {el.get_text()[:80]!r}"
        own = "".join(t for t in el.find_all(string=True) if not t.find_parent("mjx-container"))
        assert "\\(" not in own and "\\[" not in own and "$$" not in own, own[:80]
    assert soup.find("mjx-merror") is None, f"{page.name}: MathJax reported a TeX error"
    text = soup.get_text()
    assert "$$" not in text and "\\(" not in text, f"{page.name}: raw TeX left in the page"

    layout = measured(page)[DESKTOP]
    assert not layout["scrolling"], f"{page.name} at {DESKTOP} px, needs a scroll bar:\n  " + _listing(
        layout["scrolling"]
    )
    assert not layout["sticking"], f"{page.name} at {DESKTOP} px, wider than the column:\n  " + _listing(
        layout["sticking"]
    )
    for img in layout["images"]:
        assert img["natural"] >= MIN_FIGURE_PIXELS, f"{page.name}: {img['src']} is {img['natural']} px wide"
        assert img["natural"] >= 1.9 * img["shown"], f"{page.name}: {img['src']} is not a retina image ({img})"
        assert img["shown"] >= img["natural"] / 2 - 2, f"{page.name}: {img['src']} is shrunk to fit ({img})"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_phone_page_does_not_scroll_sideways(page, measured):
    layout = measured(page)[PHONE]
    assert layout["page"] <= layout["viewport"], f"{page.name} scrolls sideways at {PHONE} px"
    assert not layout["sticking"], f"{page.name} at {PHONE} px, wider than the screen:\n  " + _listing(
        layout["sticking"]
    )
    code = [r for r in layout["scrolling"] if r["tag"] == "pre"]
    assert not code, f"{page.name} at {PHONE} px, code or output that does not wrap:\n  " + _listing(code)


def test_pdf_of_the_book():
    assert PDF.is_file(), "run make pdf"
    reader = pypdf.PdfReader(PDF)
    assert len(reader.pages) >= len(PAGES)
    for k, pg in enumerate(reader.pages, start=1):
        text = pg.extract_text() or ""
        resources = pg.get("/Resources") or {}
        images = resources.get("/XObject") or {}
        assert text.strip() or len(images), f"page {k} of {PDF.name} is empty"
    first = reader.pages[0].extract_text()
    assert "Exact" in first, first[:200]
