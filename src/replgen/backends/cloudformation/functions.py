"""A site's functions, their queues and logs, who may invoke them, and schedules: replsync,
the promotion state machine and its schedule; txnproc and failover in disaster recovery."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import troposphere as t
from troposphere import awslambda, events, sqs, stepfunctions

from replgen.backends.cloudformation.bootstrap import BUCKET_OUTPUT
from replgen.backends.cloudformation.context import Ctx, Input, log_group, skipped, tags
from replgen.plan import components
from replgen.plan.layout import bootstrap_name
from replgen.plan.model import (
    Function,
    Permission,
    Queue,
    Schedule,
    Site,
    StateMachine,
)


def render(ctx: Ctx, site: Site) -> None:
    for queue in ctx.each(site, site.queues):
        _queue(ctx, site, queue)
    for fn in ctx.each(site, site.functions):
        log_group(ctx, site, ctx.component_lid(site, fn.key, "LogGroup"), fn.log_group)
        _function(ctx, site, fn)
    for machine in ctx.each(site, site.state_machines):
        log_group(ctx, site, ctx.component_lid(site, machine.key, "LogGroup"), machine.log_group)
        _state_machine(ctx, site, machine)
    for schedule in ctx.each(site, site.schedules):
        _schedule(ctx, site, schedule)
    for permission in ctx.each(site, site.permissions):
        _permission(ctx, site, permission)


def function_arn(ctx: Ctx, site: Site, key: str) -> Any:
    return t.GetAtt(ctx.component_lid(site, key, "Function"), "Arn")


def permission_lid(ctx: Ctx, site: Site, key: str) -> str:
    return ctx.component_lid(site, key, "Permission")


def _permission(ctx: Ctx, site: Site, permission: Permission) -> None:
    ctx.add(
        awslambda.Permission(
            permission_lid(ctx, site, permission.key),
            Action="lambda:InvokeFunction",
            FunctionName=function_arn(ctx, site, permission.function),
            Principal=permission.principal,
            SourceArn=permission.source_arn,
        )
    )


def _queue(ctx: Ctx, site: Site, queue: Queue) -> None:
    redrive: dict[str, Any] = (
        {
            "RedrivePolicy": sqs.RedrivePolicy(
                deadLetterTargetArn=t.GetAtt(
                    ctx.component_lid(site, queue.dead_letter.key, "Queue"), "Arn"
                ),
                maxReceiveCount=queue.max_receives,
            )
        }
        if queue.dead_letter
        else {}
    )
    ctx.add(
        sqs.Queue(
            ctx.component_lid(site, queue.key, "Queue"),
            QueueName=queue.name,
            MessageRetentionPeriod=queue.retention_seconds,
            VisibilityTimeout=queue.visibility_timeout,
            KmsMasterKeyId=ctx.value(queue.kms_key, site),
            Tags=tags(ctx.plan, queue.name),
            DeletionPolicy="Delete",
            UpdateReplacePolicy="Delete",
            **redrive,
        )
    )


# ---------------------------------------------------------------- replsync


def artifact_bucket(ctx: Ctx, site: Site) -> t.Ref:
    """One parameter per template, read from the bootstrap stack of its account and region."""
    name = ctx.lid(None, "ArtifactBucket")
    if name not in ctx.template.parameters:
        boot = ctx.plan.bootstrap_for(site)
        ctx.template.add_parameter(
            t.Parameter(
                name,
                Type="String",
                AllowedPattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
                Description="Bucket in this account and region holding the output of "
                f"`replgen package` under {boot.artifact_prefix} (from the bootstrap stack)",
            )
        )
        ctx.inputs[name] = Input(bootstrap_name(ctx.plan, boot), BUCKET_OUTPUT)
    return t.Ref(name)


def _network(ctx: Ctx, site: Site, fn: Function) -> dict[str, Any]:
    if not fn.vpc:
        return {}
    config = awslambda.VPCConfig(
        SubnetIds=ctx.subnet_ids(site),
        SecurityGroupIds=[ctx.security_group(site, r) for r in site.network.function_groups],
    )
    return {"VpcConfig": config}


def _function(ctx: Ctx, site: Site, fn: Function) -> None:
    log_group = ctx.component_lid(site, fn.key, "LogGroup")
    ctx.add(
        awslambda.Function(
            ctx.component_lid(site, fn.key, "Function"),
            FunctionName=fn.name,
            Description=fn.description,
            Runtime=fn.runtime,
            Handler=fn.handler,
            Timeout=fn.timeout,
            MemorySize=fn.memory_mb,
            ReservedConcurrentExecutions=fn.reserved_concurrency,
            Role=ctx.role_arn(site, fn.role),
            Code=awslambda.Code(
                S3Bucket=artifact_bucket(ctx, site),
                S3Key=f"{ctx.plan.bootstrap_for(site).artifact_prefix}{fn.code.filename}",
            ),
            Environment=awslambda.Environment(
                Variables={name: ctx.value(value, site) for name, value in fn.environment}
            ),
            KmsKeyArn=ctx.value(fn.kms_key, site),
            DeadLetterConfig=awslambda.DeadLetterConfig(
                TargetArn=t.GetAtt(
                    ctx.component_lid(site, fn.dead_letter_queue.key, "Queue"), "Arn"
                )
            ),
            TracingConfig=awslambda.TracingConfig(Mode="Active"),
            # Role and log group are created first through these references, no DependsOn.
            LoggingConfig=awslambda.LoggingConfig(LogGroup=t.Ref(log_group)),
            Tags=tags(ctx.plan, fn.name),
            **skipped(fn.waivers),
            **_network(ctx, site, fn),
        )
    )


# ---------------------------------------------------------------- promotion


def _state_machine(ctx: Ctx, site: Site, machine: StateMachine) -> None:
    log_group = ctx.component_lid(site, machine.key, "LogGroup")
    ctx.add(
        stepfunctions.StateMachine(
            ctx.component_lid(site, machine.key, "StateMachine"),
            StateMachineName=machine.name,
            StateMachineType="STANDARD",
            DefinitionString=machine.definition,
            RoleArn=ctx.role_arn(site, machine.role),
            LoggingConfiguration=stepfunctions.LoggingConfiguration(
                Level="ALL",
                IncludeExecutionData=True,
                Destinations=[
                    stepfunctions.LogDestination(
                        CloudWatchLogsLogGroup=stepfunctions.CloudWatchLogsLogGroup(
                            LogGroupArn=t.GetAtt(log_group, "Arn")
                        )
                    )
                ],
            ),
            TracingConfiguration=stepfunctions.TracingConfiguration(Enabled=True),
            Tags=tags(ctx.plan, machine.name),
        )
    )


# What a schedule's target is, by the kind of its component key: its ARN.
TARGETS: dict[str, Callable[[Ctx, Site, str], Any]] = {
    "state": lambda c, s, key: t.Ref(c.component_lid(s, key, "StateMachine")),
    "function": function_arn,
}


def _schedule(ctx: Ctx, site: Site, schedule: Schedule) -> None:
    kind = components.kind(schedule.target)
    # A function is invoked through its Permission; anything else through the plan's role.
    role = {"RoleArn": ctx.role_arn(site, schedule.role)} if schedule.role else {}
    event = {"Input": schedule.input} if schedule.input else {}
    ctx.add(
        events.Rule(
            ctx.component_lid(site, schedule.target, "Schedule"),
            Name=schedule.name,
            ScheduleExpression=schedule.expression,
            State="ENABLED",
            Targets=[
                events.Target(
                    Id="target",
                    Arn=TARGETS[kind](ctx, site, schedule.target),
                    **role,
                    **event,
                )
            ],
        )
    )
