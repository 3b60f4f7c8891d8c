"""cfn-lint over generated templates, through its library API, in each stack's own region."""

from __future__ import annotations

import json
from pathlib import Path

from cfnlint.api import ManualArgs, lint


def _regions(folder: Path) -> dict[str, str]:
    manifest = folder / "manifest.json"
    if not manifest.exists():
        return {}
    return {s["template"]: s["region"] for s in json.loads(manifest.read_text())["stacks"]}


def cfn_lint(paths: list[Path]) -> list[str]:
    """Every error and warning as `file:line:col: RULE message`."""
    findings: list[str] = []
    for path in paths:
        files = sorted(path.glob("*.json")) if path.is_dir() else [path]
        regions = _regions(path if path.is_dir() else path.parent)
        for file in (f for f in files if f.name != "manifest.json"):
            config = ManualArgs(regions=[regions.get(file.name, "us-east-1")])
            for match in lint(file.read_text("utf-8"), config=config):
                where = f"{file}:{match.linenumber}:{match.columnnumber}"
                findings.append(f"{where}: {match.rule.id} {match.message}")
    return findings
