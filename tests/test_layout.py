"""The package's folders are its layers: no module imports from a floor above its own, and the top level
stays small enough to read at a glance."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "mnistlib"
FLOORS = {"data": 0, "models": 0, "training": 1, "study": 2, "course": 3}
TOP = 4  # cli.py, __main__.py, __init__.py


def floor(module: str) -> int:
    """The floor of ``mnistlib.<part>...``."""
    parts = module.split(".")
    return FLOORS.get(parts[1], TOP) if len(parts) > 1 else TOP


def imports(path: Path) -> list[str]:
    """Every ``mnistlib`` module that ``path`` imports (relative imports resolved)."""
    here = ["mnistlib", *path.relative_to(PACKAGE).with_suffix("").parts]
    package = here if path.name == "__init__.py" else here[:-1]
    package = package[:-1] if package[-1] == "__init__" else package
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
                found += [target] if node.module else [f"{target}.{a.name}" for a in node.names]
            elif node.module and node.module.startswith("mnistlib"):
                found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("mnistlib")]
    return found


def test_no_module_imports_from_a_floor_above_its_own():
    breaches = []
    for path in PACKAGE.rglob("*.py"):
        mine = floor(".".join(["mnistlib", *path.relative_to(PACKAGE).parts[:1]]).removesuffix(".py"))
        for target in imports(path):
            if floor(target) > mine:
                breaches.append(f"{path.relative_to(PACKAGE.parent)} imports {target}")
    assert breaches == []


def test_the_walker_sees_relative_imports():
    assert "mnistlib.training.config" in imports(PACKAGE / "study" / "run.py")
    assert floor("mnistlib.course.plots") > floor("mnistlib.study.run") > floor("mnistlib.training.loop")


def test_the_top_level_shows_the_layers():
    entries = sorted(p.name for p in PACKAGE.iterdir() if p.name != "__pycache__")
    assert len(entries) <= 8, entries
    assert set(FLOORS) <= set(entries)
