"""AWS service quotas the generated output can hit, in one table, each with its source.

The plan designs to fit these (network ACL entries summarised, security-group rules
split over groups) and refuses, naming the quota, what no design fits. The values are
AWS's defaults; where a quota can be raised on request, the spec's `quotas:` may declare
the raised value its accounts have (applied to every account of the topology).
"""

from __future__ import annotations

from dataclasses import dataclass

from replgen.errors import KeyPath, Problem, SpecError


@dataclass(frozen=True)
class Quota:
    key: str  # the name under `quotas:` in a spec, where the quota can be raised
    value: int
    noun: str  # what is counted: "peerings"
    holder: str  # what holds them: "a VPC"
    adjustable_to: int | None  # the highest value AWS grants on request; None: hard limit


# https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html ("Network ACLs":
# rules per network ACL, 20 per direction, adjustable up to 40; "Security groups":
# inbound or outbound rules per security group, 60, adjustable while rules per group x
# groups per interface stays within 1,000; security groups per network interface, 5;
# "VPC peering connections": active peerings per VPC, 125, hard; "Route tables": routes
# per route table, 50, adjustable to 1,000).
NACL_RULES = Quota("nacl_rules_per_direction", 20, "rules per direction", "a network ACL", 40)
SG_RULES = Quota("security_group_rules", 60, "rules per direction", "a security group", 1000)
SG_PER_INTERFACE = Quota(
    "security_groups_per_interface", 5, "security groups", "a network interface", 16
)
ROUTES = Quota("routes_per_route_table", 50, "routes", "a route table", 1000)
PEERINGS = Quota("peerings_per_vpc", 125, "peerings", "a VPC", None)
# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
# (resources 500, parameters 200, outputs 200 per template; template body 51,200 bytes
# passed inline, 1 MB from S3). None of these can be raised.
TEMPLATE_RESOURCES = Quota("template_resources", 500, "resources", "a template", None)
TEMPLATE_PARAMETERS = Quota("template_parameters", 200, "parameters", "a template", None)
TEMPLATE_OUTPUTS = Quota("template_outputs", 200, "outputs", "a template", None)
TEMPLATE_BYTES = Quota("template_bytes", 1_000_000, "bytes", "a template (read from S3)", None)
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html: environment
# variables, 4 KB in total (keys and values), hard.
LAMBDA_ENVIRONMENT = Quota(
    "lambda_environment_bytes", 4096, "bytes of environment", "a function", None
)
# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-lambda-function-code.html
# (ZipFile: inline source, at most 4,096 characters), hard: CloudFormation's own helper
# functions (the parameter writer, the emptier, the deploy-time invoker) are inline.
INLINE_CODE = Quota("inline_code_characters", 4096, "characters of inline code", "a function", None)

QUOTAS = (
    NACL_RULES,
    SG_RULES,
    SG_PER_INTERFACE,
    ROUTES,
    PEERINGS,
    TEMPLATE_RESOURCES,
    TEMPLATE_PARAMETERS,
    TEMPLATE_OUTPUTS,
    TEMPLATE_BYTES,
    LAMBDA_ENVIRONMENT,
    INLINE_CODE,
)
ADJUSTABLE = tuple(q for q in QUOTAS if q.adjustable_to is not None)


@dataclass(frozen=True)
class Limits:
    """The quotas a topology is held to: AWS's defaults, or the raised values it declares."""

    raised: tuple[tuple[str, int], ...] = ()

    def __call__(self, quota: Quota) -> int:
        return dict(self.raised).get(quota.key, quota.value)


def enforce(limits: Limits, quota: Quota, path: KeyPath, subject: str, count: int) -> None:
    """Refuse `count` over the quota: `hub would have 129 peerings; a VPC has at most 125`,
    and how to raise it where AWS does."""
    limit = limits(quota)
    if count <= limit:
        return
    message = f"{subject} would have {count} {quota.noun}; {quota.holder} has at most {limit}"
    if quota.adjustable_to is not None and limit < quota.adjustable_to:
        message += f" (AWS raises it on request: then declare quotas.{quota.key})"
    raise SpecError([Problem(path, message)])


# What a deploy-time value expands to, at most, where the plan cannot know it: a cluster
# endpoint is `<cluster id>.cluster-<12 chars>.<region>.rds.amazonaws.com`; an ARN or id
# of AWS's making stays within 128 characters (RDS-managed secret ARNs are about 100).
ENDPOINT_EXTRA = len(".cluster-xxxxxxxxxxxx..rds.amazonaws.com")
REF_BYTES = 128
