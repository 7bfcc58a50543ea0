"""The repository's URL is written once (_config.yml); the launch links, the README's badges and every
chapter's install cell are generated from it, and the install cell really installs the course on a machine
that does not have it (a fresh virtual environment, no network, the repository cloned from disk)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import mnistlib
from mnistlib.course.book import chapters
from mnistlib.course.launch import (CLONE, install_cell, launch_links, readme_badges, release_tag,
                                    repository_url, synced_notebook)

ROOT = Path(__file__).resolve().parents[1]


def test_the_url_is_written_once_and_everything_else_is_generated_from_it():
    url = repository_url()
    assert url == "https://github.com/mnist-course/mnist-course"
    for path in chapters():
        assert json.loads(path.read_text()) == synced_notebook(path, url, release_tag(mnistlib.__version__)), (
            f"{path.name} drifted from _config.yml: run python -m mnistlib sync")
        text = path.read_text()
        assert launch_links(url, path.name).replace('"', '\\"') in text
        assert f"/notebooks/{path.name}" in text  # each chapter opens itself
    readme = (ROOT / "README.md").read_text()
    assert readme_badges(url) in readme
    outside = [p for p in ROOT.rglob("*") if p.suffix in {".md", ".ipynb", ".yml", ".toml", ".cff"}
               and "github.com/" in p.read_text(errors="ignore") and not any(
                   part.startswith((".", "_build")) or part in {"runs", "data", "results"} for part in p.relative_to(ROOT).parts[:-1])]
    for path in outside:  # any other mention of the course's repository is the same URL
        for line in path.read_text().splitlines():
            if "github.com/mnist-course" in line:
                assert "github.com/mnist-course/mnist-course" in line, f"{path}: {line}"


def test_a_bad_url_is_refused(tmp_path):
    (tmp_path / "_config.yml").write_text("repository:\n  url: git@github.com:x/y.git\n")
    with pytest.raises(ValueError, match="repository.url"):
        repository_url(tmp_path)


def _repository_copy(tmp_path: Path) -> Path:
    """A git repository holding the working tree as committed (HEAD), as GitHub would serve it."""
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(ROOT), str(origin)], check=True)
    return origin


def test_the_install_cell_installs_the_course_in_a_fresh_environment(tmp_path):
    """The cell's own code, run by a fresh virtual environment's Python (no system site-packages) in an empty
    folder: it clones the course (here from a copy on disk; the tag does not exist, so main), installs it
    with pip (a wheel built locally, offline), then mnistlib imports from site-packages, builds a model and
    finds the committed results. Only the heavy dependencies (torch...) are lent from this environment, so
    that the test does not reinstall them."""
    env_dir, work = tmp_path / "venv", tmp_path / "colab"
    work.mkdir()
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True)
    python = env_dir / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    ours = next(p for p in sys.path if p.endswith("site-packages") and Path(p, "torch").is_dir())
    Path(site, "lent_dependencies.pth").write_text(ours + "\n")
    origin = _repository_copy(tmp_path)
    cell = install_cell(str(origin), release_tag(mnistlib.__version__))
    script = cell + textwrap.dedent("""
        import mnistlib, torch
        from mnistlib.course.notebook import find_results
        model = mnistlib.get_model("shao_cnn")
        print("params", sum(p.numel() for p in model.parameters()))
        print("results", find_results("full", "summary.csv"))
        """)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PIP_NO_BUILD_ISOLATION"] = "0"
    done = subprocess.run([str(python), "-c", script], cwd=work, capture_output=True, text=True, env=env,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "params 354138" in done.stdout
    assert list(Path(site).glob("mnistlib-*.dist-info")), "pip did not install mnistlib into the fresh environment"
    assert f"{CLONE}/results/full/summary.csv" in done.stdout


def test_the_install_cell_does_nothing_inside_the_repository():
    done = subprocess.run([sys.executable, "-c", install_cell("https://invalid.example/x/y", "v0")],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0 and not (ROOT / CLONE).exists(), done.stderr
