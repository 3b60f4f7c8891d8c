"""What the deploy tests share besides fixtures (a module of its own: every test folder has a
`conftest`, and importing one by that name depends on collection order)."""

from __future__ import annotations

from pathlib import Path

import boto3
from click.testing import CliRunner

from replgen.cli import main

ROOT = Path(__file__).parents[2]
DEPLOYER = "123456789012"  # moto's own account: where the tests' credentials live


def compile_cfn(spec: Path, out: Path) -> Path:
    result = CliRunner().invoke(main, ["compile", str(spec), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


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
