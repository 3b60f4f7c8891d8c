"""`replgen deploy --backend cdktf`: terraform per stack in order, with a fake `terraform`
on PATH that records how it was called."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from deploy_helpers import ROOT, replgen

SPEC = str(ROOT / "specs" / "prod.yaml")
COMMITTED = ROOT / "templates_out" / "dbrepl"

FAKE = """#!/bin/sh
where=$(basename "$PWD")
printf '%s|%s|%s|%s\\n' "$where" "$*" "$TF_VAR_artifact_bucket" "$AWS_PROFILE" >> "{log}"
exit {code}
"""


def _fake_terraform(bin_dir: Path, log: Path, code: int = 0) -> None:
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / "terraform"
    script.write_text(FAKE.format(log=log, code=code))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


@pytest.fixture()
def cdktf_out(tmp_path: Path) -> Path:
    """The committed CDKTF output of prod.yaml (no synthesis here: it is fresh by test)."""
    import shutil

    out = tmp_path / "out"
    shutil.copytree(COMMITTED / "cdktf", out / "cdktf")
    return out


def test_terraform_runs_init_and_apply_per_stack_in_order(
    tmp_path: Path, cdktf_out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "calls.log"
    _fake_terraform(tmp_path / "bin", log)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    uploads: list[str] = []
    monkeypatch.setattr(
        "replgen.deploy.command.uploader",
        lambda creds, prefix, zips: lambda boot: uploads.append(boot["bucket"]),
    )
    result = replgen(
        "deploy",
        SPEC,
        "--backend",
        "cdktf",
        "--out",
        str(cdktf_out),
        "--yes",
        "--profile-map",
        "prod=prod-admin",
    )
    assert result.exit_code == 0, result.output
    document = json.loads((cdktf_out / "cdktf" / "deploy.json").read_text())
    calls = [line.split("|") for line in log.read_text().splitlines()]
    expected = []
    for stack in document["stacks"]:
        expected.append(stack["name"])
        expected.append(stack["name"])
    assert [c[0] for c in calls] == expected
    assert [c[1] for c in calls[:2]] == ["init -input=false", "apply -input=false -auto-approve"]
    staging = [c for c in calls if c[0] == "dbrepl-prod01-staging-us-east-1"]
    assert all(
        c[2].startswith("replgen-") and c[2].endswith("-222222222222-us-east-1") for c in staging
    )
    assert {c[3] for c in calls if c[0] == "dbrepl-prod01-prod-us-east-1"} == {"prod-admin"}
    assert uploads == [staging[0][2]], "the zips go to the bucket of the stack running them"


def test_a_failing_apply_stops_the_run(
    tmp_path: Path, cdktf_out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "calls.log"
    _fake_terraform(tmp_path / "bin", log, code=1)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    result = replgen("deploy", SPEC, "--backend", "cdktf", "--out", str(cdktf_out), "--yes")
    assert result.exit_code == 3
    assert "stopped: dbrepl-prod01-dev-us-east-1: terraform init failed (exit 1)" in result.stderr
    assert len(log.read_text().splitlines()) == 1


def test_without_terraform_on_path_it_says_so(
    tmp_path: Path, cdktf_out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = replgen("deploy", SPEC, "--backend", "cdktf", "--out", str(cdktf_out), "--yes")
    assert result.exit_code == 2
    assert "install Terraform" in result.stderr


def test_dry_run_prints_the_commands(cdktf_out: Path) -> None:
    result = replgen("deploy", SPEC, "--backend", "cdktf", "--out", str(cdktf_out), "--dry-run")
    assert result.exit_code == 0, result.output
    assert (
        "cd stacks/dbrepl-prod01-staging-us-east-1 && TF_VAR_artifact_bucket=replgen-"
        in result.stdout
    )


def test_a_pause_stops_terraform_until_told_it_is_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    out = tmp_path / "out"
    shutil.copytree(ROOT / "templates_out" / "txndr" / "cdktf", out / "cdktf")
    log = tmp_path / "calls.log"
    _fake_terraform(tmp_path / "bin", log)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(
        "replgen.deploy.command.uploader", lambda creds, prefix, zips: lambda boot: None
    )
    spec = str(ROOT / "specs" / "dr.yaml")
    first = replgen("deploy", spec, "--backend", "cdktf", "--out", str(out), "--yes")
    assert first.exit_code == 0, first.output
    assert "PAUSE after txndr-dr01-prod-us-east-1-foundation: delegate" in first.stdout
    applied = [line.split("|")[0] for line in log.read_text().splitlines()]
    assert applied[-1] == "txndr-dr01-prod-us-east-1-foundation"
    again = replgen(
        "deploy",
        spec,
        "--backend",
        "cdktf",
        "--out",
        str(out),
        "--yes",
        "--continue-after",
        "txndr-dr01-prod-us-east-1-foundation",
    )
    assert again.exit_code == 0, again.output
    assert "applied every stack" in again.stdout
