"""`replgen plan`: the stacks in deploy order, readable in a CI log, or as JSON."""

from __future__ import annotations

import io
import json
from pathlib import Path

from click.testing import CliRunner
from pytest import MonkeyPatch
from rich.console import Console

from replgen import cli
from replgen.cli import main

ROOT = Path(__file__).parents[2]


def _manifest(spec: str, tmp_path: Path) -> list[dict[str, object]]:
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["compile", spec, "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    document = json.loads((out / "cloudformation" / "manifest.json").read_text())
    return list(document["stacks"])


def test_plan_lists_the_manifest_stacks_in_order(tmp_path: Path) -> None:
    spec = str(ROOT / "specs" / "dr.yaml")
    result = CliRunner().invoke(main, ["plan", spec, "--json"])
    assert result.exit_code == 0, result.stderr
    planned = json.loads(result.stdout)["stacks"]
    manifest = _manifest(spec, tmp_path)
    assert [s["name"] for s in planned] == [s["name"] for s in manifest]
    assert [s["order"] for s in planned] == list(range(1, len(manifest) + 1))
    for stack, entry in zip(planned, manifest, strict=True):
        assert (stack["account"], stack["region"]) == (entry["account"], entry["region"])
        assert stack["depends_on"] == entry["depends_on"]
        assert stack["resources"] == sum(stack["holds"].values()) > 0


def test_plan_json_keeps_the_sites() -> None:
    result = CliRunner().invoke(main, ["plan", str(ROOT / "specs" / "prod.yaml"), "--json"])
    summary = json.loads(result.stdout)
    assert [s["id"] for s in summary["sites"]] == ["dev", "staging", "prod"]
    staging = next(s for s in summary["stacks"] if s["name"] == "dbrepl-prod01-staging")
    assert staging["role"] == "site staging"
    assert {i["stack"] for i in staging["inputs"]} == {
        "dbrepl-prod01-bootstrap-222222222222-us-east-1",  # the artifact bucket
        "dbrepl-prod01-dev",
        "dbrepl-prod01-prod",
    }


def test_plan_in_a_pipe_is_plain_and_untruncated() -> None:
    result = CliRunner().invoke(
        main, ["plan", str(ROOT / "specs" / "prod.yaml")], env={"COLUMNS": "40"}
    )
    assert result.exit_code == 0
    text = result.stdout
    assert "…" not in text and "┃" not in text
    assert text.splitlines()[0] == "dbrepl-prod01: 10 stacks, deploy in this order"
    assert "1. dbrepl-prod01-bootstrap-111111111111-us-east-1 (bootstrap of" in text
    assert "6. dbrepl-prod01-staging (site staging)" in text
    assert "   account 222222222222, region us-east-1, template staging.json" in text
    assert "   takes outputs of dbrepl-prod01-dev: ClusterEndpoint, ClusterSecretArn" in text
    assert "peering dev -> staging (cross_account), port 3306 only" in text
    dev, staging = text.index("4. dbrepl-prod01-dev"), text.index("6. dbrepl-prod01-staging")
    assert dev < staging


def test_plan_on_a_terminal_is_a_table_that_cuts_nothing(monkeypatch: MonkeyPatch) -> None:
    screen = Console(file=io.StringIO(), force_terminal=True, width=100, color_system=None)
    monkeypatch.setattr(cli, "console", lambda stderr=False: screen)
    # CliRunner's stdout is no tty: the variable makes the CLI ask rich, which says yes.
    spec = str(ROOT / "specs" / "prod.yaml")
    result = CliRunner().invoke(main, ["plan", spec], env={"TTY_COMPATIBLE": "1"})
    assert result.exit_code == 0, result.stderr
    text = screen.file.getvalue()  # type: ignore[attr-defined]
    assert "dbrepl-prod01: deploy in this order" in text
    assert "┃" in text and "…" not in text
    assert "222222222222" in text
