"""Built-HTML check: pages of _build/html render their mathematics offline and their figures load.

Runs in ``make html-check`` (after ``make book``); set REQUIRE_HTML_CHECK=1 to make a missing
build or browser an error instead of a skip.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
PAGES = sorted((HTML / "book").glob("*.html")) if (HTML / "book").is_dir() else []
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
REQUIRED = bool(os.environ.get("REQUIRE_HTML_CHECK"))
pytestmark = pytest.mark.skipif(
    (not CHROMIUM or not PAGES) and not REQUIRED, reason="needs chromium and a built book (make book)"
)


def is_math(tag) -> bool:
    cls = tag.get("class") or []
    return "math" in cls and "notranslate" in cls


def dump_dom(page: Path, profile: Path) -> str:
    assert CHROMIUM, "chromium is not installed (apt-get install chromium)"
    cmd = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        f"--user-data-dir={profile}", "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
        "--disable-background-networking", "--disable-component-update", "--no-first-run",
        "--virtual-time-budget=20000", "--dump-dom", page.as_uri(),
    ]  # fmt: skip
    res = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=180)
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout


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


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_math_typeset_and_figures_load(page, tmp_path):
    static = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    n_math = len(static.find_all(is_math))
    for img in static.find_all("img"):
        src = img.get("src", "")
        if src.startswith("data:"):
            continue
        target = (page.parent / src.split("?")[0]).resolve()
        assert target.is_file() and target.stat().st_size > 100, f"{page.name}: figure {src} missing"
    soup = BeautifulSoup(dump_dom(page, tmp_path / "profile"), "html.parser")
    maths = soup.find_all(is_math)
    assert len(maths) == n_math
    for el in maths:
        assert el.find("mjx-container") is not None, f"not typeset: {el.get_text()[:80]!r}"
        own = "".join(t for t in el.find_all(string=True) if not t.find_parent("mjx-container"))
        assert "\\(" not in own and "\\[" not in own and "$$" not in own, own[:80]
    assert soup.find("mjx-merror") is None, f"{page.name}: MathJax reported a TeX error"
    text = soup.get_text()
    assert "$$" not in text and "\\(" not in text, f"{page.name}: raw TeX left in the page"
