"""The specs whose compiled outputs the backend tests read, and how they are compiled."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from replgen.cli import main

ROOT = Path(__file__).parents[2]
EXAMPLES = sorted((ROOT / "specs").glob("*.yaml"))
VALID = ROOT / "tests" / "specs" / "valid"
SPECS = [*EXAMPLES, VALID / "four-envs.yaml", VALID / "dr-variant.yaml"]


def compile_all(spec: Path, out: Path, *extra: str) -> Path:
    result = CliRunner().invoke(
        main, ["compile", str(spec), "--backend", "all", "--out", str(out), *extra]
    )
    assert result.exit_code == 0, result.output
    return out
