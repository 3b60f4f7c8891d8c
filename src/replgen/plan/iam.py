"""IAM documents in their JSON shape, decided once for every backend.

A backend passes `value`, its own translation of a plan value (a `Ref` becomes a GetAtt in
CloudFormation, an interpolation in Terraform); everything else about a document is here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from replgen.plan.arns import account_root, arn, partition, service_principal
from replgen.plan.model import Bucket, Join, Key, Role, Statement, Value

Render = Callable[[Value | Join], Any]
Document = dict[str, Any]
Condition = tuple[str, str, tuple[str, ...]]  # (operator, key, values)

VERSION = "2012-10-17"
# A key policy governs only its own key, so "*" there means "this key".
THIS_KEY = "*"
SERVICE_ACTIONS = ("Encrypt", "Decrypt", "ReEncrypt*", "GenerateDataKey*", "DescribeKey")
# What an S3 upload needs of the bucket's key (Decrypt: multipart uploads read their parts).
S3_WRITE_ACTIONS = ("GenerateDataKey", "Decrypt")
# Object writes only the bucket's named writer may make. Bucket settings stay with IAM, so
# the deployer still manages the bucket itself.
OBJECT_WRITES = ("s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion")
# What CloudWatch Logs needs to encrypt a log group (AWS's documented key policy).
LOGS_ACTIONS = ("Encrypt*", "Decrypt*", "ReEncrypt*", "GenerateDataKey*", "Describe*")


def policy(statements: tuple[Statement, ...], value: Render) -> Document:
    return {"Version": VERSION, "Statement": [statement(s, value) for s in statements]}


def statement(s: Statement, value: Render) -> Document:
    conditions: dict[str, dict[str, list[Any]]] = {}
    for op, key, values in s.conditions:
        conditions.setdefault(op, {})[key] = [value(v) for v in values]
    document: Document = {
        "Sid": s.sid,
        "Effect": "Allow",
        "Action": list(s.actions),
        "Resource": [value(r) for r in s.resources],
    }
    if conditions:
        document["Condition"] = conditions
    return document


def from_account(account: str, *source_arns: str) -> tuple[Condition, ...]:
    """A service may act only for this account's resources, and only for `source_arns` where
    they are known (AWS's confused-deputy conditions, on trust and key policies alike)."""
    conditions: tuple[Condition, ...] = (("StringEquals", "aws:SourceAccount", (account,)),)
    if source_arns:
        conditions += (("ArnLike", "aws:SourceArn", source_arns),)
    return conditions


def via(region: str | tuple[str, ...], *services: str) -> tuple[Condition, ...]:
    """A key grant to a role usable only through these services in `region` (or in each of
    several regions): a role's credentials alone cannot decrypt with it, say from a laptop."""
    regions = (region,) if isinstance(region, str) else region
    endpoints = tuple(service_principal(f"{s}.{r}", r) for r in regions for s in services)
    return (("StringEquals", "kms:ViaService", endpoints),)


def _conditions(conditions: tuple[Condition, ...]) -> Document:
    document: Document = {}
    for op, key, values in conditions:
        document.setdefault(op, {})[key] = list(values)
    return document


def trust(role: Role) -> Document:
    statements: list[Document] = []
    if role.service:
        statements.append(
            _assume({"Service": [role.service]}, _conditions(role.service_conditions))
        )
    for account, principal in role.trusted_roles:
        # Name the account, and the exact role within it: IAM rejects a role principal that
        # does not exist yet. Where the trusted principal is the account itself, nothing narrows.
        root = f"arn:{principal.split(':')[1]}:iam::{account}:root"
        narrow = {} if principal == root else {"ArnEquals": {"aws:PrincipalArn": [principal]}}
        statements.append(_assume({"AWS": [root]}, narrow))
    return {"Version": VERSION, "Statement": statements}


def service_trust(service: str, conditions: tuple[Condition, ...]) -> Document:
    """A trust policy admitting one service principal, under the plan's conditions."""
    return {
        "Version": VERSION,
        "Statement": [_assume({"Service": [service]}, _conditions(conditions))],
    }


def _assume(principal: Document, condition: Document | None = None) -> Document:
    document: Document = {"Effect": "Allow", "Principal": principal, "Action": ["sts:AssumeRole"]}
    if condition:
        document["Condition"] = condition
    return document


def key_policy(key: Key, region: str, account: str) -> Document:
    # The account root delegates to IAM: who may use the key is then decided by IAM policies.
    statements: list[Document] = [
        _key_statement("AccountDelegatesToIam", {"AWS": [account_root(region, account)]}, ("*",))
    ]
    for service in key.service_principals:
        statements.append(_service_statement(service, region, account))
    for writer, bucket in key.s3_writers:
        statements.append(_s3_writer_statement(writer, bucket, region))
    if key.log_group_arns:
        # Only the site's own log groups: CloudWatch Logs names the group (its ARN, with the
        # account) in the encryption context, which is the narrowing AWS documents for it.
        logs = {"Service": [service_principal(f"logs.{region}", region)]}
        condition = {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": list(key.log_group_arns)}}
        statements.append(
            _key_statement("CloudWatchLogsForTheSiteLogGroups", logs, LOGS_ACTIONS, condition)
        )
    return {"Version": VERSION, "Statement": statements}


def _s3_writer_statement(writer: str, bucket: str, region: str) -> Document:
    """A role of another account (CI) uploading into the site's bucket: the key policy must
    name it, and only S3 in the site's region, for that bucket, may use the key for it."""
    condition = _conditions(
        (
            *via(region, "s3"),
            # With S3 Bucket Keys the context is the bucket's ARN; without, the object's.
            ("ArnLike", "kms:EncryptionContext:aws:s3:arn", (bucket, f"{bucket}/*")),
        )
    )
    name = bucket.rsplit(":", 1)[1]
    sid = "WriterOf" + "".join(w.capitalize() for w in name.replace(".", "-").split("-"))
    return _key_statement(sid, {"AWS": [writer]}, S3_WRITE_ACTIONS, condition)


def bucket_statements(bucket: Bucket, region: str) -> list[Document]:
    """What a bucket's policy adds for its named writer: the writer may list the bucket and
    put objects under its prefix (its account may be another), and every principal but the
    writer and the deployer is denied object writes and deletes, whatever IAM grants them."""
    if bucket.writer is None:
        return []
    own = f"arn:{partition(region)}:s3:::{bucket.name}"
    return [
        {
            "Sid": "MigrationsWriterLists",
            "Effect": "Allow",
            "Principal": {"AWS": [bucket.writer]},
            "Action": ["s3:ListBucket"],
            "Resource": [own],
        },
        {
            "Sid": "MigrationsWriterPuts",
            "Effect": "Allow",
            "Principal": {"AWS": [bucket.writer]},
            "Action": ["s3:PutObject"],
            "Resource": [f"{own}/{bucket.write_prefix}*"],
        },
        {
            "Sid": "OnlyTheWriterWritesObjects",
            "Effect": "Deny",
            "Principal": "*",
            "Action": list(OBJECT_WRITES),
            "Resource": [f"{own}/*"],
            "Condition": {
                "ArnNotLike": {"aws:PrincipalArn": [bucket.writer, *bucket.write_exempt]}
            },
        },
    ]


def _service_statement(principal: str, region: str, account: str) -> Document:
    """A service encrypting for the site (alarms and rules publishing to its encrypted topic):
    only on behalf of its own resources in this account and region. The service principal
    calls KMS itself, so kms:ViaService (which describes a role's call made through a
    service) does not apply here; aws:SourceAccount and aws:SourceArn do."""
    short = principal.split(".")[0]
    sid = f"{short.capitalize()}OfTheSite"
    own = arn(short, region, account, "*")
    condition = _conditions(from_account(account, own))
    return _key_statement(sid, {"Service": [principal]}, SERVICE_ACTIONS, condition)


def _key_statement(
    sid: str, principal: Document, actions: tuple[str, ...], condition: Document | None = None
) -> Document:
    document: Document = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": principal,
        "Action": [f"kms:{a}" for a in actions],
        "Resource": [THIS_KEY],
    }
    if condition:
        document["Condition"] = condition
    return document


def endpoint_policy(accounts: tuple[str, ...]) -> Document:
    """The policy of every VPC endpoint of a site: only the topology's own principals, and only
    on resources in the topology's accounts, pass; a function holding production credentials
    cannot reach a bucket, queue, topic or secret anywhere else through it.

    ``aws:ResourceAccount`` is matched "if exists" because calls without a resource (STS
    GetCallerIdentity, CloudWatch PutMetricData) carry no resource account. No AWS-owned
    resource needs an exception today: Lambda fetches code and ships logs outside the VPC, and
    the function answering CloudFormation's presigned S3 URL runs outside it too."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "TopologyAccountsOnly",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "*",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"aws:PrincipalAccount": list(accounts)},
                    "StringEqualsIfExists": {"aws:ResourceAccount": list(accounts)},
                },
            }
        ],
    }
