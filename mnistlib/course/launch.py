"""Where the course lives and how a reader opens it: everything derived from the one repository URL.

The URL is written once, in ``_config.yml`` (``repository.url``). From it come the launch links of every
chapter (Colab, Kaggle), the README's badges (tests, book) and the first code cell of every chapter, which
installs the course on Colab or Kaggle. ``python -m mnistlib sync`` rewrites them all; a test fails when
one of them drifts from what this module generates.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from .book import ROOT, chapters

CLONE = "mnist-course"  # the folder the install cell clones into
INSTALL_TAG = "hide-input"  # Jupyter Book shows the install cell collapsed, behind a "show code" toggle


def repository_url(root: Path = ROOT) -> str:
    """``repository.url`` of ``_config.yml``: ``https://github.com/<owner>/<name>``."""
    url = yaml.safe_load((root / "_config.yml").read_text())["repository"]["url"].rstrip("/")
    if not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url):
        raise ValueError(f"_config.yml: repository.url {url!r} is not https://github.com/<owner>/<name>")
    return url


def owner_and_name(url: str) -> tuple[str, str]:
    owner, name = url.removeprefix("https://github.com/").split("/")
    return owner, name


def pages_url(url: str) -> str:
    """Where GitHub Pages publishes the book."""
    owner, name = owner_and_name(url)
    return f"https://{owner.lower()}.github.io/{name}/"


def release_tag(version: str) -> str:
    """The tag of a release: ``v<version>`` (CHANGELOG.md, README)."""
    return f"v{version}"


def notebook_url(url: str, notebook: str, branch: str = "main") -> str:
    return f"{url}/blob/{branch}/notebooks/{notebook}"


def launch_links(url: str, notebook: str) -> str:
    """The line under a chapter's title: open this very notebook on Colab or on Kaggle (text links, not badge
    images: they work offline and read well aloud)."""
    owner, name = owner_and_name(url)
    colab = f"https://colab.research.google.com/github/{owner}/{name}/blob/main/notebooks/{notebook}"
    kaggle = f"https://kaggle.com/kernels/welcome?src={notebook_url(url, notebook)}"
    return f"Run this chapter yourself: [open in Colab]({colab}) · [open in Kaggle]({kaggle})"


def readme_badges(url: str) -> str:
    """The README's first line of badges: the tests' workflow and the published book."""
    return (f"[![tests]({url}/actions/workflows/tests.yml/badge.svg)]({url}/actions/workflows/tests.yml) "
            f"[![book](https://img.shields.io/badge/book-online-blue)]({pages_url(url)})")


def install_cell(url: str, tag: str) -> str:
    """The first code cell of every chapter. Inside the repository (``mnistlib`` importable) it does nothing;
    on Colab or Kaggle it clones the course at ``tag`` (``main`` while that tag does not exist), installs it
    and works from the clone, whose ``results/`` hold the committed study the chapters read. MNIST itself is
    downloaded by torchvision on first use."""
    return f'''import importlib, importlib.util, os, subprocess, sys

REPOSITORY, TAG = "{url}", "{tag}"  # generated from _config.yml and the version: python -m mnistlib sync
if importlib.util.find_spec("mnistlib") is None:  # Colab or Kaggle: fetch and install the course once
    if not os.path.isdir("{CLONE}"):
        if subprocess.run(["git", "clone", "-q", "--depth", "1", "--branch", TAG, REPOSITORY, "{CLONE}"]).returncode:
            subprocess.run(["git", "clone", "-q", "--depth", "1", REPOSITORY, "{CLONE}"], check=True)  # no tag yet
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "./{CLONE}"], check=True)
    os.chdir("{CLONE}")  # its results/ hold the committed study
    importlib.invalidate_caches()'''


def _first(cells: list[dict], kind: str) -> dict:
    return next(c for c in cells if c["cell_type"] == kind and "parameters" not in c["metadata"].get("tags", []))


def _with_links(markdown: str, links: str) -> str:
    """A title cell with its launch line replaced (or added under the title)."""
    lines = markdown.split("\n")
    marker = "colab.research.google.com/github/"
    found = [line for line in lines if marker in line]
    if found:
        at = lines.index(found[0])
        return "\n".join(lines[:at] + [links] + lines[at + 1:])
    return "\n".join(lines[:1] + ["", links] + lines[1:])


def synced_notebook(path: Path, url: str, tag: str) -> dict:
    """The notebook at ``path`` with its launch links and install cell as generated."""
    notebook = json.loads(path.read_text())
    title = _first(notebook["cells"], "markdown")
    title["source"] = _with_links("".join(title["source"]), launch_links(url, path.name)).splitlines(keepends=True)
    install = _first(notebook["cells"], "code")
    install["source"] = install_cell(url, tag).splitlines(keepends=True)
    tags = install["metadata"].setdefault("tags", [])
    if INSTALL_TAG not in tags:  # folded away in the book: a reader meets the first idea, not the plumbing
        tags.append(INSTALL_TAG)
    return notebook


def sync(version: str, root: Path = ROOT) -> list[Path]:
    """Rewrite every chapter's launch links and install cell (pinned to the tag of ``version``, the package's
    ``__version__``) and the README's badges from ``_config.yml``; returns the files that changed."""
    url, tag, changed = repository_url(root), release_tag(version), []
    for path in chapters(root):
        text = json.dumps(synced_notebook(path, url, tag), indent=1, ensure_ascii=False) + "\n"
        if text != path.read_text():
            path.write_text(text)
            changed.append(path)
    readme = root / "README.md"
    lines = readme.read_text().split("\n")
    badges = readme_badges(url)
    new = lines[:1] + ["", badges] + lines[3 if len(lines) > 2 and "badge.svg" in lines[2] else 1:]
    if new != lines:
        readme.write_text("\n".join(new))
        changed.append(readme)
    return changed
