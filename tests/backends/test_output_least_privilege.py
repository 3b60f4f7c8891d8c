"""Least privilege as both backends render it (from the session's compiled outputs): service
trust conditioned on the account, key grants through named services, every service a key
admits conditioned, the migrations bucket writable by its named writer alone, and peering
accepted only for the requester's deployer and VPCs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from outputs import SPECS
from test_cdktf_output import stacks

WRITER = "arn:aws:iam::222222222222:role/dbrepl-migrations-ci"
KMS_USE = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncrypt")
BACKENDS = ("cloudformation", "cdktf")


def _cfn(out: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    for path in sorted((out / "cloudformation").glob("*.json")):
        template = json.loads(path.read_text())
        for lid, resource in template.get("Resources", {}).items():
            yield f"{path.stem}/{lid}", resource


def _roles(out: Path, backend: str) -> Iterator[tuple[str, dict[str, Any], list[dict[str, Any]]]]:
    """(where, trust policy, inline policy documents) of every role."""
    if backend == "cloudformation":
        for where, r in _cfn(out):
            if r["Type"] == "AWS::IAM::Role":
                p = r["Properties"]
                policies = [x["PolicyDocument"] for x in p.get("Policies", [])]
                yield where, p["AssumeRolePolicyDocument"], policies
        return
    for name, stack in stacks(out).items():
        for rid, r in stack.get("resource", {}).get("aws_iam_role", {}).items():
            policies = [json.loads(x["policy"]) for x in r.get("inline_policy", [])]
            yield f"{name}/{rid}", json.loads(r["assume_role_policy"]), policies


def _key_policies(out: Path, backend: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if backend == "cloudformation":
        for where, r in _cfn(out):
            if r["Type"] == "AWS::KMS::Key":
                yield where, r["Properties"]["KeyPolicy"]
        return
    for name, stack in stacks(out).items():
        for rid, r in stack.get("resource", {}).get("aws_kms_key", {}).items():
            yield f"{name}/{rid}", json.loads(r["policy"])


def _bucket_policies(out: Path, backend: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if backend == "cloudformation":
        for where, r in _cfn(out):
            if r["Type"] == "AWS::S3::BucketPolicy":
                yield where, r["Properties"]["PolicyDocument"]
        return
    for name, stack in stacks(out).items():
        for rid, r in stack.get("resource", {}).get("aws_s3_bucket_policy", {}).items():
            yield f"{name}/{rid}", json.loads(r["policy"])


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = document["Statement"]
    return statements if isinstance(statements, list) else [statements]


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("spec", [s.stem for s in SPECS])
def test_service_roles_are_assumed_only_for_their_own_account(
    both: dict[str, Path], spec: str, backend: str
) -> None:
    seen = 0
    for where, trust, _ in _roles(both[spec], backend):
        for statement in _statements(trust):
            if "Service" not in statement["Principal"]:
                continue
            if "backup" in where.lower():
                # AWS Backup documents no source keys for the role its jobs assume.
                assert "Condition" not in statement, where
                continue
            account = _listed(statement["Condition"]["StringEquals"]["aws:SourceAccount"])
            assert len(account) == 1 and len(account[0]) == 12, where
            seen += 1
    assert seen >= 3


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("spec", [s.stem for s in SPECS])
def test_key_grants_to_roles_go_through_named_services(
    both: dict[str, Path], spec: str, backend: str
) -> None:
    seen = 0
    for where, _, policies in _roles(both[spec], backend):
        for policy in policies:
            for statement in _statements(policy):
                actions = _listed(statement["Action"])
                if not any(a.startswith(KMS_USE) for a in actions):
                    continue
                via = _listed(statement["Condition"]["StringEquals"]["kms:ViaService"])
                assert via and all(v.endswith(".amazonaws.com") for v in via), where
                seen += 1
    assert seen >= 2


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("spec", [s.stem for s in SPECS])
def test_every_service_a_key_admits_is_conditioned(
    both: dict[str, Path], spec: str, backend: str
) -> None:
    seen = 0
    for where, policy in _key_policies(both[spec], backend):
        for statement in _statements(policy):
            if "Service" not in statement["Principal"]:
                continue
            condition = statement["Condition"]
            if "kms:EncryptionContext:aws:logs:arn" in condition.get("ArnLike", {}):
                seen += 1
                continue
            assert condition["StringEquals"]["aws:SourceAccount"], where
            assert condition["ArnLike"]["aws:SourceArn"], where
            seen += 1
    assert seen >= 4


@pytest.mark.parametrize("backend", BACKENDS)
def test_only_the_named_writer_writes_migration_scripts(
    both: dict[str, Path], backend: str
) -> None:
    migrations = [
        (where, p)
        for where, p in _bucket_policies(both["prod"], backend)
        if "igrations" in where and "ccess" not in where
    ]
    assert len(migrations) == 3  # dev, staging and prod
    for where, policy in migrations:
        by_sid = {s["Sid"]: s for s in _statements(policy)}
        deny = by_sid["OnlyTheWriterWritesObjects"]
        assert deny["Effect"] == "Deny" and deny["Principal"] == "*", where
        assert set(deny["Action"]) == {"s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"}
        exempt = deny["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
        assert exempt[0] == WRITER and exempt[1].endswith(":role/replgen-deploy"), where
        put = by_sid["MigrationsWriterPuts"]
        assert put["Principal"] == {"AWS": [WRITER]} and put["Action"] == ["s3:PutObject"]
        assert put["Resource"][0].endswith("/migrations/*")
        # The transport rule is still there, first.
        assert _statements(policy)[0]["Sid"] == "DenyInsecureTransport"
    writers = [
        s
        for _, policy in _key_policies(both["prod"], backend)
        for s in _statements(policy)
        if s["Principal"] == {"AWS": [WRITER]}
    ]
    assert len(writers) == 3
    for grant in writers:
        assert grant["Condition"]["StringEquals"] == {
            "kms:ViaService": ["s3.us-east-1.amazonaws.com"]
        }


@pytest.mark.parametrize("backend", BACKENDS)
def test_without_a_writer_no_bucket_names_one(both: dict[str, Path], backend: str) -> None:
    for where, policy in _bucket_policies(both["dr"], backend):
        sids = {s["Sid"] for s in _statements(policy)}
        assert not sids & {"OnlyTheWriterWritesObjects", "MigrationsWriterPuts"}, where


@pytest.mark.parametrize("backend", BACKENDS)
def test_peering_is_accepted_for_the_requesters_deployer_and_vpcs_only(
    both: dict[str, Path], backend: str
) -> None:
    accept = [(w, t, p) for w, t, p in _roles(both["prod"], backend) if "ccept" in w]
    assert len(accept) == 2  # staging accepts dev's, prod accepts staging's
    requesters = set()
    for where, trust, (policy,) in accept:
        (statement,) = _statements(trust)
        (principal,) = statement["Condition"]["ArnEquals"]["aws:PrincipalArn"]
        account = principal.split(":")[4]
        assert principal == f"arn:aws:iam::{account}:role/replgen-deploy", where
        assert statement["Principal"] == {"AWS": [f"arn:aws:iam::{account}:root"]}
        (grant,) = _statements(policy)
        vpcs = grant["Condition"]["ArnLike"]["ec2:RequesterVpc"]
        assert vpcs == [f"arn:aws:ec2:us-east-1:{account}:vpc/*"], where
        assert grant["Condition"]["ArnEquals"]["ec2:AccepterVpc"], where
        requesters.add(account)
    assert requesters == {"111111111111", "222222222222"}
