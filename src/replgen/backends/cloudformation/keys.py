"""The site's customer-managed KMS key and its alias (none where the key already exists)."""

from __future__ import annotations

import troposphere as t
import troposphere.kms as kms
from awacs import aws as iam

from replgen.backends.cloudformation.context import Ctx, tags
from replgen.plan.arns import account_root, service_principal
from replgen.plan.model import Site

# A key policy governs only its own key, so "*" here means "this key".
THIS_KEY = "*"
SERVICE_ACTIONS = ("Encrypt", "Decrypt", "ReEncrypt*", "GenerateDataKey*", "DescribeKey")
# What CloudWatch Logs needs to encrypt a log group (AWS's documented key policy).
LOGS_ACTIONS = ("Encrypt*", "Decrypt*", "ReEncrypt*", "GenerateDataKey*", "Describe*")
# Nothing in a site is retained on delete: a new deployment starts from the spec.
DELETE = {"DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete"}


def render(ctx: Ctx, site: Site) -> None:
    if site.key.external_arn is not None:
        return  # created beforehand; components read it through ctx.key_arn
    key = ctx.add(
        kms.Key(
            ctx.lid(site, "Key"),
            Description=site.key.description,
            EnableKeyRotation=True,
            PendingWindowInDays=7,
            KeyPolicy=key_policy(site),
            Tags=tags(ctx.plan),
            **DELETE,
        )
    )
    ctx.add(kms.Alias(ctx.lid(site, "KeyAlias"), AliasName=site.key.alias, TargetKeyId=t.Ref(key)))


def key_policy(site: Site) -> iam.PolicyDocument:
    statements = [_account(site)]
    if site.key.service_principals:
        statements.append(_services(site))
    if site.key.log_group_arns:
        statements.append(_logs(site))
    return iam.PolicyDocument(Version="2012-10-17", Statement=statements)


def _account(site: Site) -> iam.Statement:
    # The account root delegates to IAM: who may use the key is then decided by IAM policies.
    return iam.Statement(
        Sid="AccountDelegatesToIam",
        Effect=iam.Allow,
        Principal=iam.AWSPrincipal([account_root(site.region, site.account_id)]),
        Action=[iam.Action("kms", "*")],
        Resource=[THIS_KEY],
    )


def _services(site: Site) -> iam.Statement:
    return iam.Statement(
        Sid="ServicesOfTheSite",
        Effect=iam.Allow,
        Principal=iam.Principal("Service", list(site.key.service_principals)),
        Action=[iam.Action("kms", a) for a in SERVICE_ACTIONS],
        Resource=[THIS_KEY],
    )


def _logs(site: Site) -> iam.Statement:
    # Only the site's own log groups: CloudWatch Logs names the group in the encryption context.
    principal = service_principal(f"logs.{site.region}", site.region)
    return iam.Statement(
        Sid="CloudWatchLogsForTheSiteLogGroups",
        Effect=iam.Allow,
        Principal=iam.Principal("Service", [principal]),
        Action=[iam.Action("kms", a) for a in LOGS_ACTIONS],
        Resource=[THIS_KEY],
        Condition=iam.Condition(
            iam.ArnLike({"kms:EncryptionContext:aws:logs:arn": list(site.key.log_group_arns)})
        ),
    )
