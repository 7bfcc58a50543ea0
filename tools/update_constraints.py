"""Rewrite constraints.txt: every package of this environment pinned, as `pip freeze` lists it, mnistlib
itself left out. Run it in the environment CI builds (`python3 -m venv .venv && .venv/bin/pip install -e
".[test]"`), then commit the file:

    .venv/bin/python tools/update_constraints.py

`pip install -c constraints.txt -e ".[test]"` then reproduces that environment; requirements*.txt keep lower
bounds only (Colab and Kaggle ship their own torch)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    frozen = subprocess.run([sys.executable, "-m", "pip", "freeze", "--exclude-editable"], check=True,
                            capture_output=True, text=True).stdout.splitlines()
    pins = sorted((line for line in frozen if "==" in line and not line.lower().startswith("mnistlib==")),
                  key=str.lower)
    header = [f"# The environment CI builds (Python {sys.version.split()[0]}), pinned by tools/update_constraints.py.",
              '# pip install -c constraints.txt -e ".[test]"']
    (ROOT / "constraints.txt").write_text("\n".join(header + pins) + "\n")
    print(f"constraints.txt: {len(pins)} pins")


if __name__ == "__main__":
    main()
