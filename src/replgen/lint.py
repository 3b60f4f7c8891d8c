"""cfn-lint over generated templates, through its library API (no subprocess per file)."""

from __future__ import annotations

from pathlib import Path

from cfnlint.api import lint_all


def cfn_lint(paths: list[Path]) -> list[str]:
    """Every finding (error, warning or informational) as `file:line:col: RULE message`."""
    findings: list[str] = []
    for path in paths:
        files = sorted(path.rglob("*.json")) if path.is_dir() else [path]
        for file in files:
            if file.name == "manifest.json":
                continue
            for match in lint_all(file.read_text("utf-8")):
                findings.append(
                    f"{file}:{match.linenumber}:{match.columnnumber}: {match.rule.id} {match.message}"
                )
    return findings
