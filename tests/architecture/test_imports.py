"""The layers import one way: spec <- plan <- backends, and the plan's own modules form no
cycle (a cycle is how two builders end up each waiting for the other's half-built value)."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

SRC = Path(__file__).parents[2] / "src" / "replgen"


def _imports(path: Path) -> set[str]:
    """Every `replgen.*` module a file imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("replgen"):
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("replgen")}
    return found


def _module(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _graph(package: str) -> dict[str, set[str]]:
    files = sorted((SRC / package.removeprefix("replgen.").replace(".", "/")).rglob("*.py"))
    modules = {_module(f): f for f in files}
    return {name: _imports(path) & set(modules) - {name} for name, path in modules.items()}


def test_plan_modules_import_no_cycle() -> None:
    graph = _graph("replgen.plan")
    assert len(graph) > 10
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        pytest.fail(f"import cycle in the plan: {' -> '.join(exc.args[1])}")


@pytest.mark.parametrize("layer", ["replgen.spec", "replgen.plan"])
def test_lower_layers_never_import_backends(layer: str) -> None:
    files = (SRC / layer.removeprefix("replgen.")).rglob("*.py")
    offenders = {
        _module(f): sorted(m for m in _imports(f) if m.startswith("replgen.backends"))
        for f in files
    }
    assert {m: i for m, i in offenders.items() if i} == {}


# Methods that take a string apart: a backend that needs a piece of a key, a name or an ARN
# asks the plan for it (plan/components.py), so both backends get the same answer.
PARSERS = {"split", "rsplit", "partition", "rpartition", "removeprefix", "removesuffix", "endswith"}


def test_backends_never_take_keys_names_or_arns_apart() -> None:
    found = []
    for path in sorted((SRC / "backends").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in PARSERS
                and not (isinstance(node.func.value, ast.Name) and node.func.value.id == "re")
            ):
                found.append(f"{path.relative_to(SRC)}:{node.lineno}: .{node.func.attr}()")
    assert found == []


def test_backends_make_no_references_of_their_own() -> None:
    """Every deploy-time reference is the plan's (a component's `kms_key`, a Join's parts):
    a Ref a backend made itself would be a dependency the layout cannot see."""
    found = []
    for path in sorted((SRC / "backends").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            call = isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            if call and node.func.id == "Ref":  # type: ignore[attr-defined]
                found.append(f"{path.relative_to(SRC)}:{node.lineno}: Ref(...)")
    assert found == []
