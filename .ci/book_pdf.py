"""Print the single-page build of the book to one PDF with headless Chromium (``make pdf``).

``python .ci/book_pdf.py SINGLEHTML_DIR OUT.pdf``: the single-page build (``jupyter-book build
--builder singlehtml``) writes its page to ``book/intro.html`` but links ``_static/`` and
``_images/`` as if it sat at the root, so the page is copied to the root first. Chromium then
loads it offline, waits until MathJax has typeset every formula and every image has loaded,
unfolds what the HTML book folds (imports, plotting code, long outputs, solutions), and prints it
with the book's print style (``book/_static/reader.css``: A4, no navigation, wrapped code).

Each chapter starts on a new page. When a chapter's last block ends at the very bottom of a page,
Chromium can emit a page with nothing on it before that break (which chapter it hits depends on
the exact heights of the outputs); such pages, without any text or image, are removed from the
PDF. Content cannot hide there: a page with any text or figure is kept, and broken images or TeX
errors stop the script before printing.
"""

import shutil
import sys
import time
from pathlib import Path

import pypdf

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from chromium import Browser  # noqa: E402

UNFOLD = """
(async () => {
  document.querySelectorAll("details").forEach((d) => { d.open = true; });
  document.querySelectorAll(".toggle-hidden, .toggle-details__container").forEach((el) => {
    el.classList.remove("toggle-hidden");
  });
  await Promise.all([...document.images].map((img) => img.complete ? null :
    new Promise((r) => { img.onload = img.onerror = r; })));
  const broken = [...document.images].filter((img) => !img.naturalWidth).map((img) => img.src);
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  return {images: document.images.length, broken,
          maths: document.querySelectorAll("mjx-container").length,
          errors: document.querySelectorAll("mjx-merror").length};
})()
"""


def drop_blank_pages(pdf: Path) -> int:
    """Remove the pages with no text and no image (layout artefacts at chapter breaks); their number."""
    writer = pypdf.PdfWriter(clone_from=pdf)
    blank = [
        k
        for k, pg in enumerate(writer.pages)
        if not (pg.extract_text() or "").strip() and not (pg.get("/Resources") or {}).get("/XObject")
    ]
    for k in reversed(blank):
        writer.remove_page(k)
    if blank:
        writer.write(pdf)
    return len(blank)


def main(site: Path, out: Path) -> None:
    page = site / "book.html"
    shutil.copyfile(site / "book" / "intro.html", page)
    t0 = time.perf_counter()
    with Browser(width=1000, height=1400, timeout=600) as browser:
        browser.load(page)
        state = browser.evaluate(UNFOLD)
        if state["broken"] or state["errors"]:
            raise SystemExit(f"book_pdf: {len(state['broken'])} broken images, {state['errors']} TeX errors")
        browser.evaluate("document.fonts.ready.then(() => true)")
        out.parent.mkdir(parents=True, exist_ok=True)
        browser.print_pdf(out)
    blank = drop_blank_pages(out)
    kb = out.stat().st_size // 1024
    print(
        f"book_pdf: {out} ({kb} KiB; {state['maths']} formulas, {state['images']} images; "
        f"{blank} blank pages removed) in {time.perf_counter() - t0:.0f} s"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
