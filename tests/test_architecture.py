"""The shape of the package: small modules, no import cycles, rooms that keep to themselves."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "desktop_bp"
MAX_LINES = 700


def _modules() -> dict[str, Path]:
    """Dotted name → file, for every module of desktop_bp (packages by their __init__)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _top_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Imports that run when the module is imported: module level, also inside try/if, but
    not under ``if TYPE_CHECKING`` nor inside functions (those cannot make an import cycle)."""
    found: list[ast.Import | ast.ImportFrom] = []
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, ast.If) and not _is_type_checking(node):
            pending.extend(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            pending.extend(node.body + node.orelse + node.finalbody)
            for handler in node.handlers:
                pending.extend(handler.body)
    return found


def _imported_modules(name: str, path: Path) -> set[str]:
    """The desktop_bp modules ``name`` imports at import time."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in _top_level_imports(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join([*anchor, base] if base else anchor)
        for alias in node.names:
            child = f"{base}.{alias.name}"
            targets.add(child if child in MODULES else base)
    return {target for target in targets if target in MODULES and target != name}


GRAPH = {name: _imported_modules(name, path) for name, path in MODULES.items()}


def test_no_module_is_over_700_lines():
    long = {
        str(path.relative_to(PACKAGE.parent)): count
        for path in MODULES.values()
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_no_import_cycles():
    """Module-level imports between desktop_bp modules form no cycle (a package's __init__
    is a module of its own; the implicit import of a parent package is not an edge)."""
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            cycle = [*path[path.index(name) :], name]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        if name in done:
            return
        for target in sorted(GRAPH[name]):
            visit(target, [*path, name])
        done.add(name)

    for name in sorted(GRAPH):
        visit(name, [])


def test_core_never_imports_gui():
    for name, targets in GRAPH.items():
        if name.startswith("desktop_bp.core"):
            assert not [t for t in targets if t.startswith("desktop_bp.gui")], name


def test_tabs_and_the_training_room_do_not_import_the_window():
    """The window knows its rooms; a room only knows gui/tab.py's interface (and the shared
    modules at the top of gui/)."""
    rooms = ("desktop_bp.gui.training", "desktop_bp.gui.pad", "desktop_bp.gui.insight")
    for name, targets in GRAPH.items():
        if name.startswith(rooms):
            assert not [t for t in targets if t.startswith("desktop_bp.gui.window")], name


def test_only_the_thread_helper_makes_qthreads():
    makers = [
        name
        for name, path in MODULES.items()
        if "QThread(" in path.read_text(encoding="utf-8") and name != "desktop_bp.gui.qthreading"
    ]
    assert makers == []
