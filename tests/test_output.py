"""Compile shares its output folders with the user: it replaces only the files it wrote."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from replgen import output
from replgen.cli import main

ROOT = Path(__file__).parents[1]
FOREIGN = {
    "terraform.tfstate": b'{"version": 4, "serial": 7}\n',
    ".terraform.lock.hcl": b'provider "registry.terraform.io/hashicorp/aws" {}\n',
    ".terraform/providers/aws/binary": b"\x7fELF\x00\x01",
    "notes.md": b"# why staging is special\n",
    "stacks/a/terraform.tfstate": b'{"serial": 3}\n',
}


def _plant(folder: Path) -> None:
    for name, content in FOREIGN.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_rewrite_keeps_foreign_files_byte_identical(tmp_path: Path) -> None:
    target = tmp_path / "out"
    first = output.write_tree(target, {"stacks/a/cdk.tf.json": b"1", "stacks/b/cdk.tf.json": b"2"})
    assert first.added == ("stacks/a/cdk.tf.json", "stacks/b/cdk.tf.json")
    _plant(target)
    changes = output.write_tree(target, {"stacks/a/cdk.tf.json": b"1b", "c.json": b"3"})
    assert (changes.added, changes.changed, changes.removed) == (
        ("c.json",),
        ("stacks/a/cdk.tf.json",),
        ("stacks/b/cdk.tf.json",),
    )
    tree = _tree(target)
    for name, content in FOREIGN.items():
        assert tree[name] == content
    assert tree["stacks/a/cdk.tf.json"] == b"1b"
    assert not (target / "stacks" / "b").exists(), "a folder emptied by a removal goes"
    assert json.loads(tree[output.RECORD])["files"] == ["c.json", "stacks/a/cdk.tf.json"]


def test_a_folder_holding_user_files_is_kept_when_compile_stops_writing_there(
    tmp_path: Path,
) -> None:
    target = tmp_path / "out"
    output.write_tree(target, {"stacks/a/cdk.tf.json": b"1"})
    _plant(target)
    output.write_tree(target, {"other.json": b"2"})
    assert (target / "stacks/a/terraform.tfstate").read_bytes() == FOREIGN[
        "stacks/a/terraform.tfstate"
    ]
    assert not (target / "stacks/a/cdk.tf.json").exists()


def test_nothing_changed_is_reported_as_such(tmp_path: Path) -> None:
    target = tmp_path / "out"
    output.write_tree(target, {"a.json": b"1"})
    again = output.write_tree(target, {"a.json": b"1"})
    assert not again.any
    assert again.unchanged == ("a.json",)


def test_a_failure_while_staging_changes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out"
    output.write_tree(target, {"a.json": b"1"})
    before = _tree(target)
    (target / "blocker").write_bytes(b"a file where compile wants a folder")
    with pytest.raises(OSError):
        output.write_tree(target, {"a.json": b"2", "blocker/x.json": b"3"})
    after = _tree(target)
    assert after == {**before, "blocker": b"a file where compile wants a folder"}


def test_a_file_compile_never_wrote_is_not_its_to_remove(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "old-template.json").write_bytes(b"{}")  # written by hand, not in the record
    output.write_tree(target, {"a.json": b"1"})
    assert (target / "old-template.json").read_bytes() == b"{}"
    assert output.differences(target, {"a.json": b"1"}) == []


def test_compile_keeps_planted_state_locks_and_notes(tmp_path: Path) -> None:
    out = tmp_path / "o"
    spec = ROOT / "specs" / "prod.yaml"
    first = CliRunner().invoke(main, ["compile", str(spec), "--out", str(out)])
    assert first.exit_code == 0, first.output
    folder = out / "cloudformation"
    _plant(folder)
    (folder / "dev.json").write_bytes(b"{}\n")  # an owned file edited by hand: compile restores it
    again = CliRunner().invoke(main, ["compile", str(spec), "--out", str(out)])
    assert again.exit_code == 0, again.output
    assert "  dev: 1 changed" in again.stdout
    assert f"{folder}: 0 added, 1 changed, 0 removed" in again.stdout
    tree = _tree(folder)
    for name, content in FOREIGN.items():
        assert tree[name] == content
    third = CliRunner().invoke(main, ["compile", str(spec), "--out", str(out)])
    assert f"{folder}: up to date" in third.stdout
    check = CliRunner().invoke(main, ["compile", str(spec), "--out", str(out), "--check"])
    assert check.exit_code == 0, "foreign files do not make the output stale"
