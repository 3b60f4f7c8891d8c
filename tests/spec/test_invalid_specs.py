"""Every bad spec ends in exit 2 with `file:line:col: key.path: message`, never a traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from replgen import compiler
from replgen.backends import Options
from replgen.cli import main
from replgen.errors import UsageError
from replgen.plan.model import Plan

INVALID = sorted(Path(__file__).parents[1].joinpath("specs", "invalid").glob("*.yaml"))
LINE = re.compile(r"^(?P<file>[^:]+\.yaml):(?P<line>\d+):(?P<col>\d+): (?P<path>\S+): (?P<msg>.+)$")


def expected(path: Path) -> list[str]:
    """The exact lines the spec must produce, written at its end as `# expect: L:C: key: msg`."""
    lines = [line for line in path.read_text().splitlines() if line.startswith("# expect: ")]
    assert lines, f"{path} must end with '# expect: <line>:<col>: <key>: <message>' lines"
    return [f"{path}:{line.removeprefix('# expect: ')}" for line in lines]


def test_corpus_is_large() -> None:
    assert len(INVALID) >= 70


@pytest.mark.parametrize("spec", INVALID, ids=lambda p: p.stem)
def test_invalid_spec_exits_2_with_located_message(spec: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["compile", str(spec), "--out", str(out)])
    assert result.exit_code == 2, result.output + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    for line in lines:
        match = LINE.match(line)
        assert match, f"not `file:line:col: key: message`: {line!r}"
        assert match["file"] == str(spec)
        assert 1 <= int(match["line"]) <= len(spec.read_text().splitlines()) + 1
    assert lines == expected(spec)
    assert not out.exists(), "nothing may be written for an invalid spec"


def test_error_points_at_the_offending_line(tmp_path: Path) -> None:
    spec = Path(__file__).parents[1] / "specs" / "invalid" / "overlap.yaml"
    result = CliRunner().invoke(main, ["validate", str(spec)])
    text = spec.read_text().splitlines()
    match = LINE.match(result.stderr.strip().splitlines()[0])
    assert match and match["path"] == "environments.staging.cidr"
    assert "10.1.128.0/17" in text[int(match["line"]) - 1]


def test_duplicate_key_names_both_lines() -> None:
    spec = Path(__file__).parents[1] / "specs" / "invalid" / "duplicate-env.yaml"
    result = CliRunner().invoke(main, ["validate", str(spec)])
    match = LINE.match(result.stderr.strip())
    assert match and match["path"] == "environments.dev"
    first = int(re.search(r"first defined on line (\d+)", match["msg"])[1])  # type: ignore[index]
    lines = spec.read_text().splitlines()
    assert lines[first - 1].lstrip().startswith("dev:")
    assert lines[int(match["line"]) - 1].lstrip().startswith("dev:")
    assert first != int(match["line"])


def test_defaults_error_points_at_defaults() -> None:
    spec = Path(__file__).parents[1] / "specs" / "invalid" / "small-instance.yaml"
    result = CliRunner().invoke(main, ["validate", str(spec)])
    assert ": defaults.database.instance_class: " in result.stderr


def test_missing_file_is_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["compile", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr


def test_single_layout_over_accounts_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["compile", "specs/prod.yaml", "--layout", "single", "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "--layout single needs every site in one account and region" in result.stderr
    assert not (tmp_path / "o").exists()


def test_deprecated_runtime_compiles_with_warning(tmp_path: Path) -> None:
    text = Path("specs/prod.yaml").read_text() + "functions: {runtime: python3.9}\n"
    spec = tmp_path / "old.yaml"
    spec.write_text(text)
    result = CliRunner().invoke(main, ["validate", str(spec)])
    assert result.exit_code == 0, result.stderr
    assert "python3.9 was deprecated on 2025-12-15" in result.stderr
    assert f"warning: {spec}:" in result.stderr


class _Partial:
    """A third-party backend that does not render every component yet."""

    name = "partial"

    def render(self, plan: Plan, options: Options) -> dict[str, bytes]:
        raise NotImplementedError("Global Database members")


def test_unrendered_component_is_a_usage_error_naming_the_backend() -> None:
    plan = compiler.plan_for(compiler.load_spec(Path("specs/dr.yaml")))
    with pytest.raises(UsageError) as caught:
        compiler.render(plan, _Partial(), Options())
    assert str(caught.value) == (
        "the partial backend cannot render this yet: Global Database members"
    )
    assert caught.value.param == "--backend"


def test_options_are_silent_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    Options().progress("synthesising")  # library callers see no progress unless they ask
    assert capsys.readouterr() == ("", "")
