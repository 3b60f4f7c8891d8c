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
from troposphere import cloudformation

from replgen.backends.cloudformation import support
from replgen.backends.cloudformation.context import Ctx
from replgen.backends.cloudformation.functions import function_arn
from replgen.plan import iam as plan_iam
from replgen.plan.model import Invocation, Invoker, Site

STEM = "Invoker"  # of its logical ids
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
    invoker = _invoker_of(site)
    with ctx.one(site, invoker):
        support.render(
            ctx,
            site,
            support.Helper(
                stem=STEM,
                logs=invoker.log_group,
                waivers=invoker.waivers,
                trusted_for=plan_iam.from_account(site.account_id),
                does=f"replgen: invokes the deploy-time steps of {site.id}",
                policy="invoke-deploy-steps",
                statements=_statements(ctx, site),
                describe="replgen: CloudFormation custom resource invoking deploy-time steps "
                f"of {site.id}",
                code=INVOKER.replace("@WAIT@", str(wait)),
                timeout=wait + MARGIN,
                concurrency=len(site.invocations),
            ),
        )
    for invocation in ctx.each(site, site.invocations):
        _invocation(ctx, site, invocation, wait + MARGIN)


def _target_timeouts(site: Site) -> list[int]:
    targets = {i.function for i in site.invocations}
    return [fn.timeout for fn in site.functions if fn.key in targets]


def _invoker_of(site: Site) -> Invoker:
    assert site.invoker is not None  # the plan gives every site with invocations one
    return site.invoker


def _statements(ctx: Ctx, site: Site) -> list[Any]:
    targets = sorted({i.function for i in site.invocations})
    return [
        iam.Statement(
            Sid="InvokeTargets",
            Effect=iam.Allow,
            Action=[iam.Action("lambda", "InvokeFunction")],
            Resource=[function_arn(ctx, site, key) for key in targets],
        ),
    ]


def _invocation(ctx: Ctx, site: Site, invocation: Invocation, timeout: int) -> None:
    # After every role of the site: the target assumes some of them as soon as it runs.
    roles = [ctx.role_lid(site, r.key) for r in site.roles if ctx.owns(site, r.key)]
    ctx.add(
        FunctionInvocation(
            ctx.component_lid(site, invocation.key, "Invocation"),
            ServiceToken=t.GetAtt(ctx.lid(site, STEM, "Function"), "Arn"),
            ServiceTimeout=timeout + 60,
            FunctionName=function_arn(ctx, site, invocation.function),
            Payload=invocation.payload,
            DependsOn=roles,
        )
    )
