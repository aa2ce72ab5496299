"""The integration's structure: no import cycles, one place per printer type.

Read statically (the modules' source), so a cycle hidden behind `TYPE_CHECKING` or a
function-local import counts too: those are the ones that grow into real ones.
"""

from __future__ import annotations

import ast
from pathlib import Path

from custom_components.print_sentinel.printer_types import PRINTER_TYPES

PACKAGE_DIR = Path(__file__).parent.parent / "custom_components" / "print_sentinel"
PACKAGE = "custom_components.print_sentinel"


def _modules() -> dict[str, tuple[Path, bool]]:
    modules: dict[str, tuple[Path, bool]] = {}
    for path in PACKAGE_DIR.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE_DIR).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        modules[".".join([PACKAGE, *parts])] = (path, is_package)
    return modules


def _import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, (path, is_package) in modules.items():
        base = name.split(".") if is_package else name.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    prefix = base[: len(base) - (node.level - 1)]
                    target = ".".join(prefix + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                candidates = [target, *(f"{target}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            else:
                continue
            graph[name] |= {c for c in candidates if c in modules and c != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in graph[node]:
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(m.removeprefix(PACKAGE + ".") for m in component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_inside_the_integration() -> None:
    assert _cycles(_import_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The check above can fail: a two-module loop is reported."""
    graph = {"a": {"b"}, "b": {"a"}, "c": {"a"}}
    assert _cycles(graph) == [["a", "b"]]


def test_only_the_registry_and_each_types_own_flow_name_a_printer_type() -> None:
    """A new printer type is a registry entry: nothing else branches on the type."""
    constants = {
        f"PRINTER_TYPE_{key.upper()}": key for key in PRINTER_TYPES
    }  # PRINTER_TYPE_PRUSALINK, ...
    users: dict[str, set[str]] = {}
    for path in PACKAGE_DIR.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {
            node.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Name) and node.id in constants
        }
        for name in names:
            users.setdefault(name, set()).add(path.name)
    for constant, key in constants.items():
        assert users.get(constant, set()) <= {
            "const.py",
            "printer_types.py",
            f"{key}_flow.py",
        }, constant
