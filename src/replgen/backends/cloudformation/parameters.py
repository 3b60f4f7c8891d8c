"""The site's Parameter Store entries, as SecureString parameters encrypted with the site key.

CloudFormation's AWS::SSM::Parameter cannot create SecureString, so a custom resource
does: one small writer function per site (inline code), its own role, log group and
dead-letter queue. The writer is CloudFormation plumbing, not part of the topology.
"""

from __future__ import annotations

from typing import Any

import troposphere as t
from awacs import aws as iam
from troposphere import cloudformation

from replgen.backends.cloudformation import support
from replgen.backends.cloudformation.context import Ctx, tag_map
from replgen.plan import components
from replgen.plan import iam as plan_iam
from replgen.plan.arns import service_principal
from replgen.plan.model import Parameter, ParameterWriter, Site

STEM = "ParameterWriter"  # of its logical ids
TIMEOUT = 60  # the code's own network timeouts leave time to answer CloudFormation
SERVICE_TIMEOUT = 300  # CloudFormation gives up on an unanswered request after this
RESERVED_CONCURRENCY = 2

# Inline code (ZipFile, at most 4096 characters). It answers CloudFormation on every path,
# and never logs a value: only names and error types reach the log group.
WRITER = """\
import boto3
import cfnresponse
from botocore.config import Config

SSM = boto3.client(
    "ssm",
    config=Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 3}),
)


def put(props):
    SSM.put_parameter(
        Name=props["Name"],
        Description=props.get("Description", ""),
        Value=props["Value"],
        Type="SecureString",
        KeyId=props["KeyId"],
        Overwrite=True,
    )


def tag(props):
    tags = [{"Key": k, "Value": v} for k, v in sorted(props.get("Tags", {}).items())]
    if tags:
        SSM.add_tags_to_resource(ResourceType="Parameter", ResourceId=props["Name"], Tags=tags)


def delete(physical_id):
    # A Create that failed before writing answered with its log stream, not a parameter.
    if not physical_id.startswith("/"):
        return
    try:
        SSM.delete_parameter(Name=physical_id)
    except SSM.exceptions.ParameterNotFound:
        pass


def handler(event, context):
    physical_id = event.get("PhysicalResourceId") or context.log_stream_name
    status, reason = cfnresponse.FAILED, None
    try:
        props = event["ResourceProperties"]
        if event["RequestType"] == "Delete":
            delete(physical_id)
        else:
            put(props)
            physical_id = props["Name"]
            tag(props)
        status = cfnresponse.SUCCESS
    except Exception as error:
        # The error's type and code only: an AWS message may quote the value.
        code = getattr(error, "response", {}).get("Error", {}).get("Code", "")
        name = event.get("ResourceProperties", {}).get("Name", physical_id)
        kind = event.get("RequestType")
        reason = "%s %s failed: %s %s" % (kind, name, type(error).__name__, code)
        print(reason)
    finally:
        cfnresponse.send(event, context, status, {}, physical_id, reason=reason)
"""


# troposphere is untyped, hence the ignore; a Custom:: type takes any property.
class SecureStringParameter(cloudformation.CustomResource):  # type: ignore[misc]
    resource_type = "Custom::SecureStringParameter"


def render(ctx: Ctx, site: Site) -> None:
    if not site.parameters:
        return
    writer = _writer_of(site)
    with ctx.one(site, writer):
        support.render(
            ctx,
            site,
            support.Helper(
                stem=STEM,
                logs=writer.log_group,
                waivers=writer.waivers,
                trusted_for=plan_iam.from_account(site.account_id),
                does=f"replgen: writes the SecureString parameters of {site.id}",
                policy="write-secure-parameters",
                statements=_statements(ctx, site),
                describe="replgen: CloudFormation custom resource writing SecureString "
                f"parameters of {site.id}",
                code=WRITER,
                timeout=TIMEOUT,
                concurrency=RESERVED_CONCURRENCY,
            ),
        )
    for parameter in ctx.each(site, site.parameters):
        _parameter(ctx, site, parameter)


def _writer_of(site: Site) -> ParameterWriter:
    assert site.parameter_writer is not None  # the plan gives every site with parameters one
    return site.parameter_writer


def _via(site: Site, service: str) -> iam.Condition:
    """The key is usable only through `service` in the site's region."""
    endpoint = service_principal(f"{service}.{site.region}", site.region)
    return iam.Condition(iam.StringEquals({"kms:ViaService": endpoint}))


def _statements(ctx: Ctx, site: Site) -> list[Any]:
    keys = [ctx.value(k, site) for k in dict.fromkeys(p.kms_key for p in site.parameters)]
    return [
        iam.Statement(
            Sid="WriteOwnParameters",
            Effect=iam.Allow,
            Action=[
                iam.Action("ssm", a)
                for a in ("PutParameter", "DeleteParameter", "AddTagsToResource")
            ],
            Resource=[p.arn for p in site.parameters],
        ),
        iam.Statement(
            Sid="EncryptParameters",
            Effect=iam.Allow,
            Action=[iam.Action("kms", "Encrypt"), iam.Action("kms", "GenerateDataKey")],
            Resource=keys,
            Condition=_via(site, "ssm"),
        ),
    ]


def _parameter(ctx: Ctx, site: Site, parameter: Parameter) -> None:
    ctx.add(
        SecureStringParameter(
            ctx.lid(
                site, components.parameter_in_site(ctx.plan, site, parameter.name), "Parameter"
            ),
            ServiceToken=t.GetAtt(ctx.lid(site, STEM, "Function"), "Arn"),
            ServiceTimeout=SERVICE_TIMEOUT,
            Name=parameter.name,
            Description=parameter.description,
            Value=ctx.value(parameter.value, site),
            KeyId=ctx.value(parameter.kms_key, site),
            Tags=tag_map(ctx.plan),
        )
    )
