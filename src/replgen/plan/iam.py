"""IAM documents in their JSON shape, decided once for every backend.

A backend passes `value`, its own translation of a plan value (a `Ref` becomes a GetAtt in
CloudFormation, an interpolation in Terraform); everything else about a document is here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from replgen.plan.arns import account_root, service_principal
from replgen.plan.model import Join, Key, Role, Statement, Value

Render = Callable[[Value | Join], Any]
Document = dict[str, Any]

VERSION = "2012-10-17"
# A key policy governs only its own key, so "*" there means "this key".
THIS_KEY = "*"
SERVICE_ACTIONS = ("Encrypt", "Decrypt", "ReEncrypt*", "GenerateDataKey*", "DescribeKey")
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


def trust(role: Role) -> Document:
    statements: list[Document] = []
    if role.service:
        statements.append(_assume({"Service": [role.service]}))
    for account, arn in role.trusted_roles:
        # Name the account, and the exact role within it: IAM rejects a role principal that
        # does not exist yet. Where the trusted principal is the account itself, nothing narrows.
        root = f"arn:{arn.split(':')[1]}:iam::{account}:root"
        narrow = {} if arn == root else {"ArnEquals": {"aws:PrincipalArn": [arn]}}
        statements.append(_assume({"AWS": [root]}, narrow))
    return {"Version": VERSION, "Statement": statements}


def trust_reason(role: Role) -> str:
    """Why a trust policy names an account (checkov's CKV_AWS_61 flags any account principal,
    whatever condition narrows it): the reason written on the role's skip."""
    return "; ".join(
        f"the plan trusts account {account} itself: it names no narrower principal there"
        if arn.endswith(":root")
        else f"account {account} is trusted only for {arn} (aws:PrincipalArn condition): IAM "
        "rejects a role principal that does not exist yet, and that role is created elsewhere"
        for account, arn in role.trusted_roles
    )


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
    if key.service_principals:
        statements.append(
            _key_statement(
                "ServicesOfTheSite", {"Service": list(key.service_principals)}, SERVICE_ACTIONS
            )
        )
    if key.log_group_arns:
        # Only the site's own log groups: CloudWatch Logs names the group in the context.
        logs = {"Service": [service_principal(f"logs.{region}", region)]}
        condition = {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": list(key.log_group_arns)}}
        statements.append(
            _key_statement("CloudWatchLogsForTheSiteLogGroups", logs, LOGS_ACTIONS, condition)
        )
    return {"Version": VERSION, "Statement": statements}


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
