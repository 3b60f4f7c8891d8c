"""`replgen graph`: the topology as Mermaid (the README's diagram), dot, or SVG via Graphviz."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from replgen.cli import main

ROOT = Path(__file__).parents[2]
PROD = str(ROOT / "specs" / "prod.yaml")
DR = str(ROOT / "specs" / "dr.yaml")


def _graph(spec: str, *extra: str) -> str:
    result = CliRunner().invoke(main, ["graph", spec, *extra])
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_readme_shows_the_diagram_of_prod() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```mermaid\n(.*?)```", readme, re.DOTALL)
    assert blocks == [_graph(PROD)], "paste `replgen graph specs/prod.yaml` into the README"


def test_mermaid_groups_accounts_and_regions_and_draws_every_flow() -> None:
    text = _graph(PROD)
    assert text.startswith("flowchart LR\n")
    assert '  subgraph n_account_222222222222["account staging (222222222222)"]' in text
    assert '    subgraph n_account_222222222222_us_east_1["us-east-1"]' in text
    assert "runs the sync functions" in text
    assert "10.3.0.0/16<br/>dbrepl-prod01-prod: aurora-mysql" in text
    assert '  n_dev <-->|"peering :3306"| n_staging' in text
    assert '  n_staging -.->|"schema: promote 2"| n_prod' in text
    # Reference data follows the chain: prod takes it from staging, never straight from dev.
    assert '  n_staging -.->|"reference data: currency, fee_schedule"| n_prod' in text
    assert '  n_dev -.->|"reference data: currency, fee_schedule"| n_prod' not in text
    assert text.count("subgraph") == text.count("\n  end\n") * 2


def test_disaster_recovery_replication_from_the_primary() -> None:
    text = _graph(DR)
    assert "global database primary" in text and "global database secondary" in text
    assert (
        '  n_prod_us_east_1 ==>|"replicates global database, buckets, sessions table"| '
        "n_prod_us_east_2" in text
    )


def test_dot_is_what_graphviz_draws_as_svg() -> None:
    source = _graph(DR, "--format", "dot")
    assert source.startswith('digraph "txndr-dr01" {')
    assert "subgraph cluster_n_account_444444444444 {" in source
    assert shutil.which("dot"), "Graphviz is a test dependency (.ci/run installs it)"
    drawn = _graph(DR, "--format", "svg")
    assert drawn.lstrip().startswith("<?xml") and "</svg>" in drawn
    assert "prod/us&#45;east&#45;1" in drawn or "prod/us-east-1" in drawn


def test_svg_without_graphviz_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` here
    result = CliRunner().invoke(main, ["graph", DR, "--format", "svg"])
    assert result.exit_code == 2
    assert "svg needs Graphviz's `dot` on PATH" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
