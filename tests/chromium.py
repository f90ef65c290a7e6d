"""A minimal headless-Chromium driver over the DevTools pipe (no extra packages, no network).

Chromium started with ``--remote-debugging-pipe`` reads DevTools commands from file descriptor 3 and
writes replies to descriptor 4, one JSON object per message, each ended by a NUL byte. The HTML check
(``tests/test_html.py``) and the PDF build (``.ci/book_pdf.py``) use it to load a page, wait until
MathJax has typeset it, run JavaScript in it, set the viewport width and print it.
"""

import base64
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")

# Resolves once MathJax (if the page loads it) has typeset the page, then two animation frames later.
WAIT_TYPESET = """
new Promise((resolve) => {
  const done = () => requestAnimationFrame(() => requestAnimationFrame(() => resolve(true)));
  const start = Date.now();
  const poll = () => {
    const mj = window.MathJax;
    if (document.readyState === "complete" && (!document.querySelector("script[src*=mathjax]")
        || (mj && mj.startup && mj.startup.promise))) {
      (mj && mj.startup && mj.startup.promise ? mj.startup.promise : Promise.resolve())
        .then(() => document.fonts.ready).then(done);
    } else if (Date.now() - start > 60000) { resolve(false); } else { setTimeout(poll, 50); }
  };
  poll();
})
"""


class ChromiumError(RuntimeError):
    pass


class Browser:
    """One headless Chromium process with one page (tab), driven over the DevTools pipe."""

    def __init__(self, width: int = 1280, height: int = 900, timeout: float = 180.0):
        if not CHROMIUM:
            raise ChromiumError("chromium is not installed (apt-get install chromium)")
        self.timeout = timeout
        self._profile = tempfile.mkdtemp(prefix="exactinterp-chromium-")
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        cmd = [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            f"--user-data-dir={self._profile}", "--proxy-server=http://127.0.0.1:9",
            "--proxy-bypass-list=<-loopback>", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--hide-scrollbars",
            "--remote-debugging-pipe", "about:blank",
        ]  # fmt: skip

        def child_fds():  # in the child, before exec: the pipe ends become fds 3 and 4
            high_r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
            high_w = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        # close_fds=False: fds 3 and 4 are made in the child; Python's own fds are non-inheritable
        self._proc = subprocess.Popen(  # noqa: PLW1509
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=child_fds, close_fds=False,
        )  # fmt: skip
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next_id = 0
        self.session = None
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Page.enable")
        self.set_width(width, height)

    # -- the protocol --------------------------------------------------------------------------------
    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise ChromiumError("timed out waiting for Chromium")
            chunk = os.read(self._from_chrome, 1 << 20)
            if not chunk:
                raise ChromiumError("Chromium exited")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, **params):
        self._next_id += 1
        msg = {"id": self._next_id, "method": method, "params": params}
        if self.session and not method.startswith("Target."):
            msg["sessionId"] = self.session
        os.write(self._to_chrome, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise ChromiumError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def _wait_event(self, name: str) -> None:
        deadline = time.monotonic() + self.timeout
        while self._read_message(deadline).get("method") != name:
            pass

    # -- what the checks need ------------------------------------------------------------------------
    def set_width(self, width: int, height: int = 900) -> None:
        mobile = width < 600
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=mobile)

    def evaluate(self, expression: str):
        res = self.call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in res:
            raise ChromiumError(f"JavaScript error: {res['exceptionDetails']}")
        return res["result"].get("value")

    def load(self, page: Path | str) -> None:
        """Open a page and wait until it is loaded and its mathematics typeset."""
        url = page.resolve().as_uri() if isinstance(page, Path) else page
        self.call("Page.navigate", url=url)
        self._wait_event("Page.loadEventFired")
        if not self.evaluate(WAIT_TYPESET):
            raise ChromiumError(f"{url}: MathJax did not finish typesetting")

    def screenshot(self, out: Path, full_page: bool = True) -> None:
        params = {"format": "png", "captureBeyondViewport": full_page}
        if full_page:
            w, h = self.evaluate("[document.documentElement.clientWidth, document.documentElement.scrollHeight]")
            params["clip"] = {"x": 0, "y": 0, "width": w, "height": h, "scale": 1}
        out.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", **params)["data"]))

    def print_pdf(self, out: Path, **options) -> None:
        opts = {"printBackground": True, "preferCSSPageSize": True, "displayHeaderFooter": False}
        opts.update(options)
        out.write_bytes(base64.b64decode(self.call("Page.printToPDF", **opts)["data"]))

    def close(self) -> None:
        try:
            os.write(self._to_chrome, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
            self._proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self._proc.kill()
            self._proc.wait()
        finally:
            os.close(self._to_chrome)
            os.close(self._from_chrome)
            shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
