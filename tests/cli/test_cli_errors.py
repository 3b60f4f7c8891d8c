"""How the command line reports: usage mistakes are click's, spec mistakes are located lines,
`validate --json` is always one document, colour only on a terminal."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from replgen.cli import main

ROOT = Path(__file__).parents[2]
INVALID = ROOT / "tests" / "specs" / "invalid"
PROD = ROOT / "specs" / "prod.yaml"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_unknown_backend_is_a_usage_error_that_lists_all() -> None:
    result = CliRunner().invoke(main, ["compile", str(PROD), "--backend", "cdk"])
    assert result.exit_code == 2
    assert "Usage: main compile" in result.stderr
    assert "Invalid value for '--backend': unknown backend 'cdk' (did you mean 'cdktf'?)" in (
        result.stderr
    )
    assert "(choose from all, cdktf, cloudformation)" in result.stderr
    assert str(PROD) not in result.stderr, "the spec file is not to blame"


def test_impossible_layout_is_a_usage_error(tmp_path: Path) -> None:
    out = tmp_path / "o"
    result = CliRunner().invoke(
        main, ["compile", str(PROD), "--layout", "single", "--out", str(out)]
    )
    assert result.exit_code == 2
    assert "Invalid value for '--layout': --layout single needs every site in one account" in (
        result.stderr
    )
    assert str(PROD) not in result.stderr
    assert not out.exists()


def test_bad_flag_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["validate", str(PROD), "--jsn"])
    assert result.exit_code == 2
    assert "No such option '--jsn'. Did you mean '--json'?" in result.stderr


def test_validate_json_on_success() -> None:
    result = CliRunner().invoke(main, ["validate", str(PROD), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"valid": True, "problems": [], "warnings": []}


def test_validate_json_on_failure_lists_every_problem() -> None:
    spec = INVALID / "several-mistakes.yaml"
    result = CliRunner().invoke(main, ["validate", str(spec), "--json"])
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert document["valid"] is False
    assert [(p["line"], p["path"]) for p in document["problems"]] == [
        (4, "region"),
        (24, "environments.staging.cidr"),
        (37, "sync.schedule"),
        (51, "notifcations"),
    ]
    first = document["problems"][0]
    assert first == {
        "file": str(spec),
        "line": 4,
        "column": 1,
        "path": "region",
        "message": "unknown AWS region 'us-east-7' "
        "(did you mean 'us-east-1', 'us-east-2' or 'ap-east-1'?)",
    }
    assert result.stderr == ""


def test_validate_json_on_unreadable_yaml() -> None:
    result = CliRunner().invoke(main, ["validate", str(INVALID / "yaml-tab.yaml"), "--json"])
    assert result.exit_code == 2
    (problem,) = json.loads(result.stdout)["problems"]
    assert problem["line"] == 20
    assert "indents with spaces" in problem["message"]


def test_validate_json_carries_warnings(tmp_path: Path) -> None:
    spec = tmp_path / "old.yaml"
    spec.write_text(PROD.read_text() + "functions: {runtime: python3.9}\n")
    result = CliRunner().invoke(main, ["validate", str(spec), "--json"])
    assert result.exit_code == 0
    (warning,) = json.loads(result.stdout)["warnings"]
    assert warning["path"] == "functions.runtime"
    assert "python3.9 was deprecated" in warning["message"]


def test_errors_are_coloured_only_on_a_terminal() -> None:
    spec = str(INVALID / "overlap.yaml")
    plain = CliRunner().invoke(main, ["validate", spec])
    assert not ANSI.search(plain.stderr)
    coloured = CliRunner().invoke(main, ["validate", spec], color=True)
    assert ANSI.search(coloured.stderr)
    assert ANSI.sub("", coloured.stderr) == plain.stderr


def test_no_color_turns_colour_off_on_a_terminal() -> None:
    spec = str(INVALID / "overlap.yaml")
    result = CliRunner().invoke(main, ["validate", spec], color=True, env={"NO_COLOR": "1"})
    assert not ANSI.search(result.stderr)


def test_problems_come_in_file_order_each_once() -> None:
    spec = INVALID / "several-structural-and-rules.yaml"
    result = CliRunner().invoke(main, ["validate", str(spec)])
    lines = [int(line.split(":")[1]) for line in result.stderr.splitlines()]
    assert lines == sorted(lines)
    assert len(set(result.stderr.splitlines())) == len(lines)


def test_a_shared_default_is_reported_once() -> None:
    spec = INVALID / "version-typo.yaml"
    result = CliRunner().invoke(main, ["validate", str(spec)])
    assert result.stderr.count("has no version") == 1
