"""What each of CloudFormation's own helper functions (the parameter writer, the emptier, the
deploy-time invoker) has around it: a log group and a dead-letter queue, encrypted with the
site key and deleted with the stack, and the statements that let the function use them."""

from __future__ import annotations

from typing import Any

import troposphere as t
from troposphere import logs, sqs

from replgen.backends.cloudformation.context import Ctx, skipped, tags
from replgen.plan.arns import service_principal
from replgen.plan.model import LogGroup, Ref, Site

DLQ_RETENTION_SECONDS = 1209600  # 14 days, SQS's maximum
DELETED = {"DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete"}


def log_group(ctx: Ctx, site: Site, lid: str, group: LogGroup, **extra: Any) -> None:
    ctx.add(
        logs.LogGroup(
            lid,
            LogGroupName=group.name,
            RetentionInDays=group.retention_days,
            KmsKeyId=ctx.value(group.kms_key, site),
            Tags=tags(ctx.plan),
            **DELETED,
            **skipped(group.waivers),
            **extra,
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
