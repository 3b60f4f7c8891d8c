"""CloudFormation's own helper functions (the parameter writer, the emptier, the deploy-time
invoker), built one way: the function (inline code, traced, outside the VPC), its role
(trusted by Lambda for the site's account only), its log group and dead-letter queue
(encrypted with the key its log group names, deleted with the stack), and the statements
that let the function use them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import troposphere as t
from troposphere import awslambda, sqs
from troposphere import iam as cfn_iam

from replgen.backends.cloudformation.context import Ctx, log_group, skipped, tags
from replgen.plan import iam as plan_iam
from replgen.plan.arns import service_principal
from replgen.plan.model import LogGroup, Ref, Site
from replgen.plan.waivers import Waived

RUNTIME = "python3.12"

DLQ_RETENTION_SECONDS = 1209600  # 14 days, SQS's maximum
DELETED = {"DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete"}


@dataclass(frozen=True)
class Helper:
    """One helper function: what its component decides, in CloudFormation's terms."""

    stem: str  # of its logical ids: <stem>Function, <stem>Role, <stem>LogGroup, <stem>Dlq
    logs: LogGroup  # the key it names encrypts everything the helper keeps
    waivers: tuple[Waived, ...]
    trusted_for: tuple[tuple[str, str, tuple[str, ...]], ...]  # conditions on Lambda's trust
    does: str  # the role's description
    policy: str  # the role's policy name
    statements: list[Any]  # what its work takes; its plumbing is added
    describe: str  # the function's description
    code: str  # inline (ZipFile)
    timeout: int
    concurrency: int


def render(ctx: Ctx, site: Site, helper: Helper) -> None:
    """The helper's log group, dead-letter queue, role and function."""

    def lid(kind: str) -> str:
        return ctx.lid(site, helper.stem, kind)

    key = helper.logs.kms_key
    log_group(ctx, site, lid("LogGroup"), helper.logs)
    dead_letters(ctx, site, lid("Dlq"), key)
    trust = plan_iam.service_trust(service_principal("lambda", site.region), helper.trusted_for)
    statements = [*helper.statements, *plumbing(ctx, site, lid("LogGroup"), lid("Dlq"), key)]
    ctx.add(
        cfn_iam.Role(
            lid("Role"),
            Description=helper.does,
            AssumeRolePolicyDocument=trust,
            Policies=[
                cfn_iam.Policy(
                    PolicyName=helper.policy,
                    PolicyDocument={"Version": plan_iam.VERSION, "Statement": statements},
                )
            ],
            Tags=tags(ctx.plan),
        )
    )
    ctx.add(
        awslambda.Function(
            lid("Function"),
            Description=helper.describe,
            Runtime=RUNTIME,
            Handler="index.handler",
            Timeout=helper.timeout,
            MemorySize=128,
            ReservedConcurrentExecutions=helper.concurrency,
            Role=t.GetAtt(lid("Role"), "Arn"),
            Code=awslambda.Code(ZipFile=helper.code),
            KmsKeyArn=ctx.value(key, site),
            DeadLetterConfig=awslambda.DeadLetterConfig(TargetArn=t.GetAtt(lid("Dlq"), "Arn")),
            TracingConfig=awslambda.TracingConfig(Mode="Active"),
            LoggingConfig=awslambda.LoggingConfig(LogGroup=t.Ref(lid("LogGroup"))),
            Tags=tags(ctx.plan),
            **skipped(helper.waivers),
        )
    )


def dead_letters(ctx: Ctx, site: Site, lid: str, key: Ref) -> None:
    ctx.add(
        sqs.Queue(
            lid,
            MessageRetentionPeriod=DLQ_RETENTION_SECONDS,
            KmsMasterKeyId=ctx.value(key, site),
            Tags=tags(ctx.plan),
            **DELETED,
        )
    )


def plumbing(
    ctx: Ctx, site: Site, log_group_lid: str, dlq_lid: str, key: Ref
) -> list[dict[str, Any]]:
    """The function's own logs and dead letters, and tracing."""
    sqs_endpoint = service_principal(f"sqs.{site.region}", site.region)
    return [
        _allow(
            "WriteOwnLogs",
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            [t.GetAtt(log_group_lid, "Arn")],
        ),
        _allow("DeadLetters", ["sqs:SendMessage"], [t.GetAtt(dlq_lid, "Arn")]),
        # SQS encrypts with the site key on the sender's behalf.
        _allow(
            "EncryptDeadLetters",
            ["kms:GenerateDataKey", "kms:Decrypt"],
            [ctx.value(key, site)],
            {"StringEquals": {"kms:ViaService": sqs_endpoint}},
        ),
        # X-Ray has no resource-level permissions for these actions.
        _allow("Tracing", ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], ["*"]),
    ]


def _allow(
    sid: str, actions: list[str], resources: list[Any], condition: dict[str, Any] | None = None
) -> dict[str, Any]:
    statement = {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}
    return statement | ({"Condition": condition} if condition else {})
