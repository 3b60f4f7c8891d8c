"""Deploy tests: moto is the AWS (three accounts through STS), the templates are compiled
once per module and adapted by `moto_adapt.for_moto`, the one place that bends them."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner
from moto import mock_aws

sys.path.insert(0, str(Path(__file__).resolve().parent))
from moto_adapt import adapt_folder_bytes, moto_fixes

from replgen.cli import main

ROOT = Path(__file__).parents[2]
DEPLOYER = "123456789012"  # moto's own account: where the tests' credentials live


def compile_cfn(spec: Path, out: Path) -> Path:
    result = CliRunner().invoke(main, ["compile", str(spec), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def compiled_prod(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_cfn(ROOT / "specs" / "prod.yaml", tmp_path_factory.mktemp("prod"))


@pytest.fixture()
def moto_out(compiled_prod: Path, tmp_path: Path) -> Path:
    """A copy of the prod output with every template adapted for moto."""
    out = tmp_path / "out"
    shutil.copytree(compiled_prod, out)
    folder = out / "cloudformation"
    files = {p.name: p.read_bytes() for p in folder.glob("*.json")}
    for name, content in adapt_folder_bytes(files).items():
        (folder / name).write_bytes(content)
    return out


@pytest.fixture()
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws(), moto_fixes():
        yield


def client(service: str, account: str, region: str = "us-east-1") -> object:
    """A client in `account`, reached the way the tests' deploys reach it."""
    sts = boto3.client("sts", region_name=region)
    creds = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/replgen-deploy", RoleSessionName="tests"
    )["Credentials"]
    return boto3.client(
        service,
        region_name=region,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def replgen(*args: str) -> object:
    return CliRunner().invoke(main, list(args))
