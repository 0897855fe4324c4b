"""The packages import one way and without circles, counting imports inside functions too: a circle makes every
module in it load the others, and the order of first import decides which half-initialised module wins."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

from tests.conftest import REPO

PACKAGES = ("agent", "planners", "tools", "modalities")
# allowed directions: a package may import itself and the ones after it in this order
LAYERS = {"agent": 0, "planners": 1, "tools": 2, "modalities": 3}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, name: str, modules: set[str]) -> set[str]:
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base
                                                                                                     else []))
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        for target in targets:
            # the deepest project module the import names (``from tools import registry`` names tools.registry)
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def _graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py")}
    modules = set(files)
    graph = {name: _imports(path, name, modules) for name, path in files.items()}
    # a package's __init__ re-exports its modules: importing the package is not a dependency of its modules
    return {name: {d for d in deps if not name.startswith(d + ".")} for name, deps in graph.items()}


def test_no_import_circles() -> None:
    try:
        tuple(TopologicalSorter(_graph()).static_order())
    except CycleError as exc:
        raise AssertionError(f"import circle: {' -> '.join(exc.args[1])}") from None


def test_imports_flow_down_the_layers() -> None:
    upward = sorted(f"{name} -> {dep}" for name, deps in _graph().items() for dep in deps
                    if LAYERS[dep.split(".")[0]] < LAYERS[name.split(".")[0]])
    assert not upward, upward
