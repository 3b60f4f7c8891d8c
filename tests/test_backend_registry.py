"""replgen's own backends resolve without scanning installed metadata, to the same objects
their entry points name (third parties still come through the entry points)."""

from __future__ import annotations

import tomllib
from importlib.metadata import entry_points
from pathlib import Path

from replgen import compiler
from replgen.backends import BUILTIN, builtin

ROOT = Path(__file__).parents[1]


def test_the_builtin_table_is_what_pyproject_declares() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["entry-points"]["replgen.backends"] == BUILTIN


def test_a_builtin_backend_is_its_entry_point() -> None:
    declared = {e.name: e for e in entry_points(group="replgen.backends")}
    for name in BUILTIN:
        assert builtin(name) is declared[name].load()
        assert compiler.backends(name) == {name: declared[name].load()}
    assert set(BUILTIN) <= set(compiler.backends("all"))
