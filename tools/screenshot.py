"""A screenshot of a built book's first page as Chromium renders it (Playwright, Debian's chromium).

    python tools/screenshot.py _build/_build/html book/_static/first_page.png
"""
from __future__ import annotations

import functools
import http.server
import shutil
import sys
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright


def main(html: str, out: str, page: str = "book/intro.html") -> None:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=html))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium") or shutil.which("chromium-browser"),
                                    args=["--no-sandbox"])
        view = browser.new_page(viewport={"width": 1280, "height": 1000})
        view.goto(f"http://127.0.0.1:{server.server_address[1]}/{page}", wait_until="load")
        view.wait_for_timeout(1000)
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        view.screenshot(path=out)
        browser.close()
    server.shutdown()
    print(f"wrote {out}")


if __name__ == "__main__":
    main(*sys.argv[1:])
