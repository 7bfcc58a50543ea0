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
    """Every ``mnistlib`` module that ``path`` imports (relative imports resolved; ``from . import x`` names
    the module ``x``)."""
    def is_module(dotted: str) -> bool:
        where = PACKAGE.parent.joinpath(*dotted.split("."))
        return where.with_suffix(".py").exists() or (where / "__init__.py").exists()

    found = [f"{module}.{name}" if is_module(f"{module}.{name}") else module
             for module, name in _imported_names(path)]
    return found + [alias.name for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Import)
                    for alias in node.names if alias.name.startswith("mnistlib")]


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


def _modules() -> dict[str, Path]:
    """Every module of the package by dotted name (packages by their ``__init__``)."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ["mnistlib", *path.relative_to(PACKAGE).with_suffix("").parts]
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imported_names(path: Path) -> list[tuple[str, str]]:
    """``(module, name)`` for every ``from <mnistlib module> import name`` in ``path``, at any depth (an
    import inside a function counts: it runs all the same)."""
    here = ["mnistlib", *path.relative_to(PACKAGE).with_suffix("").parts]
    package = here if path.name == "__init__.py" else here[:-1]
    package = package[:-1] if package[-1] == "__init__" else package
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else [])) \
                if node.level else (node.module or "")
            if base.startswith("mnistlib"):
                found += [(base, alias.name) for alias in node.names]
    return found


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in FLOORS else "top"


def test_other_layers_use_only_what_a_layer_makes_public():
    import importlib

    public = {layer: set(importlib.import_module(f"mnistlib.{layer}").__all__) for layer in FLOORS}
    breaches = []
    for module, path in _modules().items():
        for target, name in _imported_names(path):
            layer = _layer(target)
            if layer != _layer(module) and layer in public and name not in public[layer]:
                breaches.append(f"{module} imports {name} from {target}, not in mnistlib.{layer}.__all__")
    assert breaches == []


def test_no_layer_imports_itself_in_a_loop():
    modules = _modules()
    graph = {}
    for module, path in modules.items():
        if path.name == "__init__.py":
            continue  # a layer's face imports its modules; the modules must not need each other in a circle
        targets = set()
        for target, name in _imported_names(path):
            for candidate in (f"{target}.{name}", target):
                if candidate in modules and _layer(candidate) == _layer(module) and candidate != module \
                        and modules[candidate].name != "__init__.py":
                    targets.add(candidate)
                    break
        graph[module] = targets

    def cycle_from(start):
        stack, seen = [(start, [start])], set()
        while stack:
            node, trail = stack.pop()
            for nxt in graph.get(node, ()):
                if nxt == start:
                    return trail + [start]
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, trail + [nxt]))
        return None

    loops = [" -> ".join(c) for c in filter(None, (cycle_from(m) for m in graph))]
    assert loops == []


def test_the_loop_test_sees_a_loop_made_inside_a_function(tmp_path, monkeypatch):
    (tmp_path / "course").mkdir()
    (tmp_path / "course" / "a.py").write_text("from .b import x\n")
    (tmp_path / "course" / "b.py").write_text("def f():\n    from .a import y\n")
    import sys

    import pytest

    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path)
    with pytest.raises(AssertionError, match="mnistlib.course.a -> mnistlib.course.b"):
        test_no_layer_imports_itself_in_a_loop()


def test_every_default_is_written_once_and_the_command_line_reads_it():
    from mnistlib.cli import build_parser
    from mnistlib.study import configuration as defaults

    parse = build_parser().parse_args
    assert parse(["reproduce"]).seeds == defaults.DEFAULT_SEEDS
    assert parse(["reproduce"]).out == str(defaults.STUDY_OUT)
    assert parse(["ablate"]).seeds == defaults.ABLATION_SEEDS and parse(["ablate"]).out == str(defaults.ABLATION_OUT)
    assert parse(["tune"]).out == str(defaults.TUNING_OUT)
    written = {'"results/full"', '"results/ablation"', '"results/hpo"', '"results") / "full"', '"results" / "full"'}
    elsewhere = [f"{path.relative_to(PACKAGE)}: {literal}" for path in PACKAGE.rglob("*.py")
                 if path.name != "configuration.py" for literal in written if literal in path.read_text()]
    assert elsewhere == []


def test_one_module_resolves_and_names_devices():
    """``training/device.py`` alone decides which device a run uses and how a record names it; no other module
    is named after devices (the data's splits live in ``data/splits.py``, the CPU-GPU comparison in
    ``study/device_comparison.py``)."""
    named = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("device*.py"))
    assert named == ["study/device_comparison.py", "training/device.py"]
    defined = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name in ("resolve_device", "device_name", "cpu_model"):
                defined.setdefault(node.name, []).append(str(path.relative_to(PACKAGE)))
    assert defined == {name: ["training/device.py"] for name in ("resolve_device", "device_name", "cpu_model")}


def test_pylint_finds_no_repeated_code_of_six_lines_or_more():
    """pylint's duplicate-code check (6 similar lines, imports and docstrings aside) over the package: a
    repeated piece belongs in one function."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "pylint", "--disable=all", "--enable=duplicate-code",
                           "--min-similarity-lines=6", "--ignore-imports=y", "--ignore-docstrings=y",
                           str(PACKAGE)], capture_output=True, text=True)
    assert done.returncode == 0 and "Similar lines" not in done.stdout, done.stdout
