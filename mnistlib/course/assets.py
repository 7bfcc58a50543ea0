"""Third-party files the built book serves itself, so that it works without a network: MathJax.

Sphinx would load MathJax from a CDN; the book instead serves a pinned copy from its own static files
(``_config.yml``: ``mathjax_path: mathjax/tex-mml-chtml.js`` under ``html_static_path: [_vendor]``). The copy
comes from npm's ``mathjax`` package, fetched once with ``npm`` into a cache
(``$MNIST_COURSE_CACHE``, default ``~/.cache/mnist-course``). Without npm and without a cached copy the book
falls back to the CDN and says so.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml

MATHJAX_VERSION = "3.2.2"
NPM_TIMEOUT = 180  # seconds: without a registry, npm would retry for minutes
VENDOR = "_vendor"  # the book's own static folder (not "_static": Jupyter Book would load every .js in it)
MATHJAX_ENTRY = "tex-mml-chtml.js"
CDN = f"https://cdn.jsdelivr.net/npm/mathjax@{MATHJAX_VERSION}/es5/{MATHJAX_ENTRY}"
# what the entry point loads at run time: its fonts, TeX extensions on demand, the menu and accessibility
MATHJAX_PARTS = (MATHJAX_ENTRY, "output/chtml/fonts/woff-v2", "input/tex/extensions", "ui", "a11y")


def cache_dir() -> Path:
    return Path(os.environ.get("MNIST_COURSE_CACHE", Path.home() / ".cache" / "mnist-course"))


def npm_package(name: str, version: str, *, log=print) -> Path | None:
    """``node_modules/<name>`` of ``name@version``, installed once into the cache with npm; ``None`` without
    npm (or without a registry)."""
    log = log or (lambda *_: None)
    target = cache_dir() / f"{name}-{version}"
    if (target / "package.json").exists():
        return target
    npm = shutil.which("npm")
    if npm is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        log(f"fetching {name}@{version} with npm (once, into {target})")
        try:
            done = subprocess.run([npm, "install", "--silent", "--no-audit", "--no-fund", "--fetch-retries=1",
                                   "--prefix", tmp, f"{name}@{version}"], capture_output=True, text=True,
                                  timeout=NPM_TIMEOUT)
        except subprocess.TimeoutExpired:
            log(f"npm could not fetch {name}@{version} within {NPM_TIMEOUT} s (no registry?)")
            return None
        if done.returncode != 0:
            log(f"npm could not fetch {name}@{version}: {done.stderr.strip()[-300:]}")
            return None
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(Path(tmp) / "node_modules" / name, target, dirs_exist_ok=True)
    return target


def vendor_mathjax(source: Path, *, log=print) -> bool:
    """Copy the pinned MathJax into ``<source>/_vendor/mathjax``; returns ``False`` (and points the book's
    ``_config.yml`` at the CDN) when no copy can be had."""
    log = log or (lambda *_: None)
    (source / VENDOR).mkdir(parents=True, exist_ok=True)
    package = npm_package("mathjax", MATHJAX_VERSION, log=log)
    if package is None:
        log(f"note: MathJax is loaded from {CDN}: install npm (Debian: apt-get install npm) to serve it from the "
            "book itself")
        config_path = source / "_config.yml"
        config = yaml.safe_load(config_path.read_text())
        config["sphinx"]["config"]["mathjax_path"] = CDN
        config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        return False
    for part in MATHJAX_PARTS:
        origin, target = package / "es5" / part, source / VENDOR / "mathjax" / part
        target.parent.mkdir(parents=True, exist_ok=True)
        if origin.is_dir():
            shutil.copytree(origin, target, dirs_exist_ok=True)
        else:
            shutil.copy(origin, target)
    return True
