"""`replgen init`: a starter that validates and compiles as written, never over a file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from replgen.cli import main


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_starter_validates_and_compiles(workdir: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["init", "specs/orders.yaml"])
    assert result.exit_code == 0, result.stderr
    text = (workdir / "specs" / "orders.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=")
    assert "name: orders " in text
    assert runner.invoke(main, ["validate", "specs/orders.yaml"]).exit_code == 0
    compiled = runner.invoke(main, ["compile", "specs/orders.yaml", "--out", "out"])
    assert compiled.exit_code == 0, compiled.stderr
    manifest = json.loads((workdir / "out" / "cloudformation" / "manifest.json").read_text())
    assert sorted(s["name"] for s in manifest["stacks"] if not s["bootstrap"]) == [
        "orders-dev01-dev",
        "orders-dev01-peering-dev-prod",
        "orders-dev01-peering-dev-prod-accept",
        "orders-dev01-prod",
    ]


def test_starter_has_two_environments_peering_and_sync(workdir: Path) -> None:
    CliRunner().invoke(main, ["init"])
    plan = CliRunner().invoke(main, ["plan", "replgen.yaml", "--json"])
    summary = json.loads(plan.stdout)
    assert [s["id"] for s in summary["sites"]] == ["dev", "prod"]
    assert [(p["requester"], p["accepter"]) for p in summary["peerings"]] == [("dev", "prod")]
    assert any("replsync" in f for s in summary["sites"] for f in s["functions"])


def test_init_refuses_to_overwrite(workdir: Path) -> None:
    target = workdir / "mine.yaml"
    target.write_text("my own work\n")
    result = CliRunner().invoke(main, ["init", "mine.yaml"])
    assert result.exit_code == 2
    assert "mine.yaml already exists: not overwritten" in result.stderr
    assert target.read_text() == "my own work\n"


def test_schema_reference_is_relative_where_the_schema_is(workdir: Path) -> None:
    (workdir / "schema").mkdir()
    (workdir / "schema" / "replgen.schema.json").write_text("{}")
    CliRunner().invoke(main, ["init", "specs/a.yaml", "--name", "alpha"])
    text = (workdir / "specs" / "a.yaml").read_text()
    assert text.splitlines()[0] == "# yaml-language-server: $schema=../schema/replgen.schema.json"
    assert "name: alpha " in text


def test_init_where_nothing_can_be_written_is_a_usage_error(workdir: Path) -> None:
    (workdir / "file").write_text("")
    result = CliRunner().invoke(main, ["init", "file/inside.yaml"])
    assert result.exit_code == 2
    assert "cannot write file/inside.yaml" in result.stderr
