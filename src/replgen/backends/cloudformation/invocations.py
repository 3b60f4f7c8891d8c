"""The plan's invocations (replsync's bootstrap per environment) as custom resources.

CloudFormation reaches a function only through a custom resource, whose answer goes to a
presigned S3 URL that the VPC's S3 endpoint does not admit (it admits the topology's own
accounts only). So one small invoker function per site, outside the VPC, calls the target
function synchronously and answers CloudFormation: the target's error fails the stack
operation. CloudFormation plumbing, not part of the topology (as the parameter writer is).
"""

from __future__ import annotations

from typing import Any

import troposphere as t
from awacs import aws as iam
from troposphere import awslambda, cloudformation
from troposphere import iam as cfn_iam

from replgen.backends.cloudformation import support
from replgen.backends.cloudformation.context import Ctx, skipped, tags
from replgen.backends.cloudformation.functions import function_arn
from replgen.plan import iam as plan_iam
from replgen.plan.arns import service_principal
from replgen.plan.model import Invocation, Invoker, LogGroup, Site

RUNTIME = "python3.12"
MARGIN = 30  # seconds the invoker outlives the function it waits for
LAMBDA_MAX_TIMEOUT = 900

# Inline code (ZipFile). It answers CloudFormation on every path; the reason carries only
# the error's type and the target's error name, never its message (which may quote data).
INVOKER = """\
import json

import boto3
import cfnresponse
from botocore.config import Config

LAMBDA = boto3.client(
    "lambda",
    config=Config(
        connect_timeout=5,
        read_timeout=@WAIT@,
        retries={"max_attempts": 1},
    ),
)


def invoke(props):
    answer = LAMBDA.invoke(FunctionName=props["FunctionName"], Payload=props["Payload"].encode())
    body = json.loads(answer["Payload"].read() or b"null")
    if answer.get("FunctionError") or not isinstance(body, dict) or body.get("status") != "ok":
        error = body.get("errorType") or body.get("error") if isinstance(body, dict) else None
        raise RuntimeError("%s answered %s" % (props["FunctionName"], error or "not ok"))


def handler(event, context):
    physical_id = event.get("PhysicalResourceId") or event["LogicalResourceId"]
    status, reason = cfnresponse.FAILED, None
    try:
        # Delete does nothing: what the function made (a database user) goes with its database.
        if event["RequestType"] != "Delete":
            invoke(event["ResourceProperties"])
        status = cfnresponse.SUCCESS
    except Exception as error:
        reason = "%s %s failed: %s %s" % (
            event.get("RequestType"), event.get("LogicalResourceId"), type(error).__name__, error
        )
        print(reason)
    finally:
        cfnresponse.send(event, context, status, {}, physical_id, reason=reason)
"""


# troposphere is untyped, hence the ignore; a Custom:: type takes any property.
class FunctionInvocation(cloudformation.CustomResource):  # type: ignore[misc]
    resource_type = "Custom::FunctionInvocation"


def render(ctx: Ctx, site: Site) -> None:
    if not site.invocations:
        return
    wait = min(LAMBDA_MAX_TIMEOUT - MARGIN, max(_target_timeouts(site)))
    with ctx.one(site, _invoker_of(site)):
        support.log_group(ctx, site, _lid(ctx, site, "LogGroup"), _logs(site))
        support.dead_letters(ctx, site, _lid(ctx, site, "Dlq"), _logs(site).kms_key)
        _role(ctx, site)
        _invoker(ctx, site, wait + MARGIN, wait)
    for invocation in ctx.each(site, site.invocations):
        _invocation(ctx, site, invocation, wait + MARGIN)


def _target_timeouts(site: Site) -> list[int]:
    targets = {i.function for i in site.invocations}
    return [fn.timeout for fn in site.functions if fn.key in targets]


def _lid(ctx: Ctx, site: Site, kind: str) -> str:
    return ctx.lid(site, "Invoker", kind)


def _invoker_of(site: Site) -> Invoker:
    assert site.invoker is not None  # the plan gives every site with invocations one
    return site.invoker


def _logs(site: Site) -> LogGroup:
    """The invoker's log group: the site key it names encrypts everything the invoker keeps."""
    return _invoker_of(site).log_group


def _statements(ctx: Ctx, site: Site) -> list[Any]:
    targets = sorted({i.function for i in site.invocations})
    return [
        iam.Statement(
            Sid="InvokeTargets",
            Effect=iam.Allow,
            Action=[iam.Action("lambda", "InvokeFunction")],
            Resource=[function_arn(ctx, site, key) for key in targets],
        ),
        *support.plumbing(
            ctx, site, _lid(ctx, site, "LogGroup"), _lid(ctx, site, "Dlq"), _logs(site).kms_key
        ),
    ]


def _role(ctx: Ctx, site: Site) -> None:
    # Lambda may assume it for this account only, as every service role of the plan.
    lambda_ = service_principal("lambda", site.region)
    trust = plan_iam.service_trust(lambda_, plan_iam.from_account(site.account_id))
    ctx.add(
        cfn_iam.Role(
            _lid(ctx, site, "Role"),
            Description=f"replgen: invokes the deploy-time steps of {site.id}",
            AssumeRolePolicyDocument=trust,
            Policies=[
                cfn_iam.Policy(
                    PolicyName="invoke-deploy-steps",
                    PolicyDocument={"Version": "2012-10-17", "Statement": _statements(ctx, site)},
                )
            ],
            Tags=tags(ctx.plan),
        )
    )


def _invoker(ctx: Ctx, site: Site, timeout: int, wait: int) -> None:
    ctx.add(
        awslambda.Function(
            _lid(ctx, site, "Function"),
            Description=f"replgen: CloudFormation custom resource invoking deploy-time steps "
            f"of {site.id}",
            Runtime=RUNTIME,
            Handler="index.handler",
            Timeout=timeout,
            MemorySize=128,
            ReservedConcurrentExecutions=len(site.invocations),
            Role=t.GetAtt(_lid(ctx, site, "Role"), "Arn"),
            Code=awslambda.Code(ZipFile=INVOKER.replace("@WAIT@", str(wait))),
            KmsKeyArn=ctx.value(_logs(site).kms_key, site),
            DeadLetterConfig=awslambda.DeadLetterConfig(
                TargetArn=t.GetAtt(_lid(ctx, site, "Dlq"), "Arn")
            ),
            TracingConfig=awslambda.TracingConfig(Mode="Active"),
            LoggingConfig=awslambda.LoggingConfig(LogGroup=t.Ref(_lid(ctx, site, "LogGroup"))),
            Tags=tags(ctx.plan),
            **skipped(_invoker_of(site).waivers),
        )
    )


def _invocation(ctx: Ctx, site: Site, invocation: Invocation, timeout: int) -> None:
    # After every role of the site: the target assumes some of them as soon as it runs.
    roles = [ctx.role_lid(site, r.key) for r in site.roles if ctx.owns(site, r.key)]
    ctx.add(
        FunctionInvocation(
            ctx.component_lid(site, invocation.key, "Invocation"),
            ServiceToken=t.GetAtt(_lid(ctx, site, "Function"), "Arn"),
            ServiceTimeout=timeout + 60,
            FunctionName=function_arn(ctx, site, invocation.function),
            Payload=invocation.payload,
            DependsOn=roles,
        )
    )
