"""Least privilege between environments, decided in the plan for every backend: conditions on
service trust, on key grants to roles and services, on the peering accept roles, and the one
role (CI) that may write migration scripts."""

from __future__ import annotations

from pathlib import Path

import pytest

from replgen.plan import iam
from replgen.plan.build import build
from replgen.plan.model import Code, Plan, Role, Site
from replgen.spec.load import load

ROOT = Path(__file__).parents[2]
CODE = {
    "replsync": Code("replsync", "replsync-0123456789ab.zip", "0" * 64, "AAAA"),
    "txnproc": Code("txnproc", "txnproc-0123456789ab.zip", "1" * 64, "BBBB"),
}
SPECS = sorted([*(ROOT / "specs").glob("*.yaml"), *(ROOT / "tests/specs/valid").glob("*.yaml")])
WRITER = "arn:aws:iam::222222222222:role/dbrepl-migrations-ci"
KMS_USE = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncrypt")


@pytest.fixture(scope="module", params=SPECS, ids=lambda p: p.stem)
def plan(request: pytest.FixtureRequest) -> Plan:
    return build(load(request.param).spec, CODE)


@pytest.fixture(scope="module")
def prod() -> Plan:
    return build(load(ROOT / "specs" / "prod.yaml").spec, CODE)


def _roles(plan: Plan) -> list[tuple[Site, Role]]:
    return [(site, role) for site in plan.sites for role in site.roles]


def test_every_service_role_is_assumed_only_for_its_own_account(plan: Plan) -> None:
    for site, role in _roles(plan):
        if role.service is None:
            continue
        document = iam.trust(role)
        (statement,) = document["Statement"]
        if role.key == "role:backup":
            # AWS Backup documents no source keys for the role a job assumes: none is set
            # rather than one the service may not send (backups would stop silently).
            assert "Condition" not in statement
            continue
        assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": [site.account_id]}


def test_service_roles_name_their_source_where_it_is_known(prod: Plan) -> None:
    staging = prod.site("staging")
    sources = {
        role.key: iam.trust(role)["Statement"][0]["Condition"].get("ArnLike", {})
        for role in staging.roles
        if role.service
    }
    prefix = "arn:aws:{}:us-east-1:222222222222:"
    assert sources["role:replsync-states"] == {
        "aws:SourceArn": [prefix.format("states") + "stateMachine:dbrepl-prod01-staging-promote"]
    }
    assert sources["role:replsync-schedule"] == {
        "aws:SourceArn": [prefix.format("events") + "rule/dbrepl-prod01-staging-replsync-schedule"]
    }
    assert sources["role:flowlogs"] == {"aws:SourceArn": [prefix.format("ec2") + "vpc-flow-log/*"]}
    assert sources["role:monitoring"] == {
        "aws:SourceArn": [prefix.format("rds") + "db:dbrepl-prod01-staging-1"]
    }
    # Lambda carries the account only; its function ARN reaches the role's own calls.
    assert sources["role:replsync"] == {}


def test_every_key_grant_to_a_role_goes_through_a_named_service(plan: Plan) -> None:
    for site, role in _roles(plan):
        for statement in role.statements:
            if not any(a.startswith(KMS_USE) for a in statement.actions):
                continue
            via = [c for c in statement.conditions if c[1] == "kms:ViaService"]
            assert via, (site.id, role.key, statement.sid)
            ((operator, _, services),) = via
            assert operator == "StringEquals"
            assert all(str(s).endswith(".amazonaws.com") for s in services)


def test_replication_uses_the_keys_only_through_s3_in_their_regions() -> None:
    dr = build(load(ROOT / "specs" / "dr.yaml").spec, CODE)
    primary = dr.site("prod/us-east-1")
    role = next(r for r in primary.roles if r.key == "role:replication")
    conditions = {s.sid: s.conditions for s in role.statements}
    assert conditions["DecryptSource"] == (
        ("StringEquals", "kms:ViaService", ("s3.us-east-1.amazonaws.com",)),
    )
    assert conditions["EncryptReplicas"] == (
        ("StringEquals", "kms:ViaService", ("s3.us-east-2.amazonaws.com",)),
    )
    trust = iam.trust(role)["Statement"][0]["Condition"]
    assert trust["ArnLike"]["aws:SourceArn"] == [
        "arn:aws:s3:::txndr-dr01-prod-us-east-1-transaction-logs-444444444444",
        "arn:aws:s3:::txndr-dr01-prod-us-east-1-documents-444444444444",
    ]


def test_every_service_the_key_admits_is_conditioned(plan: Plan) -> None:
    for site in plan.sites:
        policy = iam.key_policy(site.key, site.region, site.account_id)
        for statement in policy["Statement"]:
            if "Service" not in statement["Principal"]:
                continue
            condition = statement["Condition"]
            if statement["Sid"] == "CloudWatchLogsForTheSiteLogGroups":
                # CloudWatch Logs names the log group in the encryption context.
                assert set(condition) == {"ArnLike"}
                (groups,) = condition["ArnLike"].values()
                assert all(f":{site.account_id}:log-group:" in g for g in groups)
                continue
            assert condition["StringEquals"] == {"aws:SourceAccount": [site.account_id]}
            (source,) = condition["ArnLike"]["aws:SourceArn"]
            assert source.endswith(f":{site.region}:{site.account_id}:*")


def test_peering_is_accepted_only_for_the_requesters_deployer_and_vpcs(prod: Plan) -> None:
    staging = prod.site("staging")
    accept = next(r for r in staging.roles if r.key == "role:accept:dev-staging")
    (trust,) = iam.trust(accept)["Statement"]
    assert trust["Principal"] == {"AWS": ["arn:aws:iam::111111111111:root"]}
    assert trust["Condition"] == {
        "ArnEquals": {"aws:PrincipalArn": ["arn:aws:iam::111111111111:role/replgen-deploy"]}
    }
    (statement,) = accept.statements
    requester = [c for c in statement.conditions if c[1] == "ec2:RequesterVpc"]
    assert requester == [
        ("ArnLike", "ec2:RequesterVpc", ("arn:aws:ec2:us-east-1:111111111111:vpc/*",))
    ]
    assert any(c[1] == "ec2:AccepterVpc" for c in statement.conditions)


def test_only_the_named_writer_and_the_deployer_write_migration_scripts(prod: Plan) -> None:
    for site in prod.sites:
        bucket = next(b for b in site.buckets if b.key == "bucket:migrations")
        assert bucket.writer == WRITER
        deployer = f"arn:aws:iam::{site.account_id}:role/replgen-deploy"
        assert bucket.write_exempt == (deployer,)
        allow_list, allow_put, deny = iam.bucket_statements(bucket, site.region)
        own = f"arn:aws:s3:::{bucket.name}"
        assert allow_put["Resource"] == [f"{own}/migrations/*"]
        assert allow_put["Principal"] == allow_list["Principal"] == {"AWS": [WRITER]}
        assert deny == {
            "Sid": "OnlyTheWriterWritesObjects",
            "Effect": "Deny",
            "Principal": "*",
            "Action": ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"],
            "Resource": [f"{own}/*"],
            "Condition": {"ArnNotLike": {"aws:PrincipalArn": [WRITER, deployer]}},
        }
        # The writer may be another account's role: the key policy names it, through S3 only.
        (grant,) = [
            s
            for s in iam.key_policy(site.key, site.region, site.account_id)["Statement"]
            if s["Principal"] == {"AWS": [WRITER]}
        ]
        assert grant["Action"] == ["kms:GenerateDataKey", "kms:Decrypt"]
        assert grant["Condition"] == {
            "StringEquals": {"kms:ViaService": ["s3.us-east-1.amazonaws.com"]},
            "ArnLike": {"kms:EncryptionContext:aws:s3:arn": [own, f"{own}/*"]},
        }


def test_without_a_named_writer_no_policy_grants_or_denies_writes() -> None:
    """Nothing the plan builds may write scripts then; only the account's administrators
    (IAM principals granted s3:PutObject outside the plan) can."""
    dr = build(load(ROOT / "specs" / "dr.yaml").spec, CODE)
    for site in dr.sites:
        for bucket in site.buckets:
            assert bucket.writer is None and iam.bucket_statements(bucket, site.region) == []
        assert site.key.s3_writers == ()
        for role in site.roles:
            for statement in role.statements:
                assert not any(
                    a in ("s3:PutObject", "s3:*") and "migrations" in str(statement.resources)
                    for a in statement.actions
                )


def test_a_single_account_topology_exempts_no_deployer_role() -> None:
    spec = load(ROOT / "specs" / "prod.yaml").spec
    one = spec.model_copy(update={"accounts": {alias: "222222222222" for alias in spec.accounts}})
    plan = build(one, CODE)
    bucket = next(b for b in plan.site("dev").buckets if b.key == "bucket:migrations")
    assert bucket.writer == WRITER and bucket.write_exempt == ()


def test_a_grant_across_regions_names_the_service_in_each_once() -> None:
    # Replication into several regions: one condition, every destination's S3 endpoint.
    assert iam.via(("us-east-2", "eu-west-1"), "s3") == (
        (
            "StringEquals",
            "kms:ViaService",
            ("s3.us-east-2.amazonaws.com", "s3.eu-west-1.amazonaws.com"),
        ),
    )
    assert iam.via("cn-north-1", "s3") == (
        ("StringEquals", "kms:ViaService", ("s3.cn-north-1.amazonaws.com.cn",)),
    )
