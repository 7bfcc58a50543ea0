"""A screenshot of a built book's first page as Chromium renders it (Playwright, Debian's chromium).

    python tools/screenshot.py _build/_build/html book/_static/first_page.png
"""
from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from mnistlib.course.serve import served, system_chromium


def main(html: str, out: str, page: str = "book/intro.html") -> None:
    with served(html) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=system_chromium(), args=["--no-sandbox"])
        view = browser.new_page(viewport={"width": 1280, "height": 1000})
        view.goto(base + page, wait_until="load")
        view.wait_for_timeout(1000)
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        view.screenshot(path=out)
        browser.close()
    print(f"wrote {out}")


if __name__ == "__main__":
    main(*sys.argv[1:])
