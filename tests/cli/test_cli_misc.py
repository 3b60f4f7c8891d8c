"""Shell completion works as the README says; same-named specs in one folder are warned of."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from replgen.cli import main

ROOT = Path(__file__).parents[2]


def test_shell_completion_is_documented_and_works() -> None:
    readme = (ROOT / "README.md").read_text()
    assert 'eval "$(_REPLGEN_COMPLETE=bash_source replgen)"' in readme
    result = CliRunner().invoke(
        main,
        [],
        prog_name="replgen",
        env={"_REPLGEN_COMPLETE": "bash_complete", "COMP_WORDS": "replgen gr", "COMP_CWORD": "1"},
    )
    assert result.exit_code == 0
    assert "plain,graph" in result.stdout.splitlines()


def test_same_name_in_the_same_folder_is_a_warning(tmp_path: Path) -> None:
    prod = (ROOT / "specs" / "prod.yaml").read_text()
    (tmp_path / "a.yaml").write_text(prod)
    (tmp_path / "b.yaml").write_text(prod.replace("suffix: prod01", "suffix: prod02"))
    (tmp_path / "broken.yaml").write_text("name: [unclosed\n")
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "a.yaml")])
    assert result.exit_code == 0
    (line,) = result.stderr.splitlines()
    assert line == (
        f"warning: {tmp_path / 'a.yaml'}:3:1: name: {tmp_path / 'b.yaml'} has the same name "
        "'dbrepl': both compile into templates_out/dbrepl/ and overwrite each other's output"
    )


def test_a_sibling_s_name_is_read_however_it_is_written(tmp_path: Path) -> None:
    prod = (ROOT / "specs" / "prod.yaml").read_text()
    (tmp_path / "a.yaml").write_text(prod)
    (tmp_path / "quoted.yaml").write_text("replgen: 1\nname: 'dbrepl'   # the same\n")
    (tmp_path / "flow.yml").write_text("{replgen: 1, name: dbrepl}\n")
    (tmp_path / "twice.yaml").write_text("name: other\n---\nname: dbrepl\n")
    (tmp_path / "nested.yaml").write_text("name: other\nstate:\n  name: dbrepl\n")
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "a.yaml")])
    assert result.exit_code == 0
    named = [line.split(": name: ")[1].split(" has")[0] for line in result.stderr.splitlines()]
    assert named == [str(tmp_path / "flow.yml"), str(tmp_path / "quoted.yaml")]


def test_example_specs_have_names_of_their_own() -> None:
    for spec in ("prod.yaml", "dr.yaml"):
        result = CliRunner().invoke(main, ["validate", str(ROOT / "specs" / spec)])
        assert result.exit_code == 0
        assert "warning" not in result.stderr


def test_readme_error_example_is_what_replgen_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (ROOT / "specs" / "prod.yaml").read_text()
    for old, new in (
        ("region: us-east-1 ", "region: us-east-7 "),
        ('  dev: "111111111111"', "  dev: 011111111111"),
        ("cidr: 10.2.0.0/16", "cidr: 10.1.128.0/17"),
        ("rate(1 hour)", "rate(1 hours)"),
        ("\nnotifications:", "\nnotifcations:"),
    ):
        assert old in text
        text = text.replace(old, new, 1)
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "prod.yaml").write_text(text)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["validate", "specs/prod.yaml"])
    assert result.exit_code == 2
    readme = (ROOT / "README.md").read_text()
    example = readme.split("Five mistakes in `specs/prod.yaml` give:\n\n```\n")[1].split("```")[0]
    assert result.stderr == example
