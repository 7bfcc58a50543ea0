"""What a reader needs to reuse, cite and reproduce the course: licences, citation, the pinned environment."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

import mnistlib

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s=]+)$")


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_constraints_parse_and_pin_every_direct_dependency():
    lines = [l for l in (ROOT / "constraints.txt").read_text().splitlines() if l and not l.startswith("#")]
    pins = {}
    for line in lines:
        match = PIN.match(line)
        assert match, f"not a pin: {line!r}"
        pins[match.group(1).lower().replace("_", "-")] = match.group(2)
    direct = {_name(l) for f in ROOT.glob("requirements*.txt") for l in f.read_text().splitlines()
              if l.strip() and not l.startswith("#")}
    assert direct and direct <= set(pins), f"not pinned: {sorted(direct - set(pins))}"


def test_citation_names_the_course_version_and_both_sources():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["version"] == mnistlib.__version__
    titles = " ".join(r["title"] for r in cff["references"])
    assert "Hyperparameter Optimization" in titles and "INT305" in titles


def test_the_readme_leads_to_licence_citation_and_environment_in_one_click():
    readme = (ROOT / "README.md").read_text()
    for target in ("LICENSE", "LICENSE-CONTENT.md", "CITATION.cff", "constraints.txt", "CHANGELOG.md",
                   "results/full/environment.txt"):
        assert f"]({target})" in readme, target
        assert (ROOT / target).exists() or target.startswith("results/"), target
