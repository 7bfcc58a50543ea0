"""The built book in a real browser: Debian's Chromium, driven by Playwright, opens every page of the smoke
build from a local HTTP server with every other address blocked (no network), and checks what a reader
would notice: console errors, broken images, images without a text alternative, tracebacks in outputs,
internal links that lead nowhere, tables cut at the page's right edge (Playwright's 1280-pixel window), launch
links that open another chapter, formulas left as raw LaTeX, and a search that finds nothing."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urldefrag, urlparse

import pytest

# one worker builds the smoke book and runs every test that reads it (pytest -n: xdist --dist loadgroup)
pytestmark = pytest.mark.xdist_group("smoke_book")

ERROR_CLASS = re.compile(r"\b[A-Z]\w*(Error|Exception)\b|Traceback \(most recent call last\)")


def _pages(html: Path) -> list[str]:
    return sorted(str(p.relative_to(html)) for p in html.rglob("*.html")
                  if not p.relative_to(html).parts[0].startswith("_"))


def _visit(context, url: str):
    page, problems = context.new_page(), []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.goto(url, wait_until="load")
    page.wait_for_timeout(300)
    return page, problems


def test_every_page_loads_cleanly_with_working_images_links_and_text(browser_context):
    context, base, html = browser_context
    failures = []
    for name in _pages(html):
        page, problems = _visit(context, base + name)
        failures += [f"{name}: {p}" for p in problems]
        for src, width, alt in page.eval_on_selector_all(
                "img", "imgs => imgs.map(i => [i.getAttribute('src'), i.naturalWidth, i.getAttribute('alt') || ''])"):
            shown = src[:60]
            if width == 0:
                failures.append(f"{name}: image {shown} does not load")
            if not alt.strip() or re.search(r"\.(png|svg|jpe?g)$", alt) or alt.startswith(("../", "_images")):
                failures.append(f"{name}: image {shown} has no meaningful alt text ({alt[:40]!r})")
        for output in page.locator(".cell_output").all_inner_texts():
            if ERROR_CLASS.search(output):
                failures.append(f"{name}: an output shows an error: {ERROR_CLASS.search(output).group(0)}")
        for shown, needed, first in page.eval_on_selector_all(
                "div.pst-scrollable-table-container",
                "cs => cs.map(c => [c.clientWidth, c.scrollWidth, (c.querySelector('th') || {}).innerText || ''])"):
            if needed > shown + 2:
                failures.append(f"{name}: a table ({first!r}, ...) needs {needed} px and is cut at {shown}")
        for href in page.eval_on_selector_all("a[href]", "as => as.map(a => a.href)"):
            target, _ = urldefrag(href)
            if target.startswith(base):
                path = urlparse(target).path.removeprefix(urlparse(base).path) or "index.html"
                if not (html / path).exists():
                    failures.append(f"{name}: broken link to {path}")
        page.close()
    assert failures == [], "\n".join(failures)


def test_chapters_launch_their_own_notebook_and_render_formulas_offline(browser_context):
    context, base, html = browser_context
    for name in [n for n in _pages(html) if n.startswith("notebooks/")]:
        page, _ = _visit(context, base + name)
        notebook = Path(name).with_suffix(".ipynb").name
        launches = [h for h in page.eval_on_selector_all("a[href]", "as => as.map(a => a.href)")
                    if "colab.research.google.com/github" in h or "kaggle.com/kernels" in h]
        assert len(launches) >= 2, f"{name}: no Colab and Kaggle links"
        assert all(h.endswith(f"notebooks/{notebook}") for h in launches), (name, launches)
        page.close()
    if not (html / "_static" / "mathjax").is_dir():
        pytest.skip("MathJax was not vendored (no npm): formulas need the CDN")
    page, _ = _visit(context, base + "notebooks/01_convolution.html")  # equations, typeset by the served MathJax
    page.wait_for_selector("mjx-container", timeout=15_000)
    assert page.locator("mjx-container").count() > 3
    page.close()


def test_the_search_page_finds_gecco(browser_context):
    context, base, _ = browser_context
    page, problems = _visit(context, base + "search.html?q=GECCO")
    page.wait_for_selector("#search-results li", timeout=15_000)
    assert page.locator("#search-results li").count() > 0
    assert problems == []
    page.close()
