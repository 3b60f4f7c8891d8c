"""The one table from the plan's waivers to the checkov checks each backend's output skips.

A waiver maps to the checks that flag the fact it states, per checkov framework: the
CloudFormation runner for `cloudformation`, the Terraform (JSON) runner for `terraform`.
Where a runner has no check for the fact, or passes the resource anyway, the waiver maps to
nothing there and the comment says why. No other module of the backends names a check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from replgen.plan.waivers import Waived, Waiver

Backend = Literal["cloudformation", "terraform"]


@dataclass(frozen=True)
class Checks:
    cloudformation: tuple[str, ...]
    terraform: tuple[str, ...]

    def of(self, backend: Backend) -> tuple[str, ...]:
        return self.cloudformation if backend == "cloudformation" else self.terraform


# Log retention shorter than a year; code signing; a function outside a VPC.
_RETENTION = Checks(("CKV_AWS_338",), ("CKV_AWS_338",))
_UNSIGNED = Checks(("CKV_AWS_272",), ("CKV_AWS_272",))
_OUTSIDE_VPC = Checks(("CKV_AWS_117",), ("CKV_AWS_117",))
_NOT_LOGGED = Checks(("CKV_AWS_18",), ("CKV_AWS_18",))
_NOT_REPLICATED = Checks(("CKV_AWS_144",), ("CKV_AWS_144",))
_ACCOUNT_TRUST = Checks(("CKV_AWS_61",), ("CKV_AWS_61",))
# The rest are Terraform graph or resource checks with no CloudFormation counterpart.
_TERRAFORM_ONLY: dict[Waiver, tuple[str, ...]] = {
    Waiver.NO_EVENT_NOTIFICATIONS: ("CKV2_AWS_62",),
    Waiver.WAF_BY_ASSOCIATION: ("CKV2_AWS_76",),
    Waiver.NO_DNSSEC: ("CKV2_AWS_38",),
    Waiver.NO_QUERY_LOGS: ("CKV2_AWS_39",),
    Waiver.NO_BACKUP_PLAN: ("CKV2_AWS_8",),
    Waiver.NO_BACKTRACK: ("CKV_AWS_326",),
    Waiver.NO_STATEMENT_LOGS: ("CKV2_AWS_27",),
    # CloudFormation reads the zones with Fn::GetAZs: no resource to flag.
    Waiver.NTH_ZONE: ("CKV_AWS_394",),
    Waiver.ACL_ALL_PORTS_IN_VPC: ("CKV_AWS_352",),
    Waiver.ACL_DENY_ALL_PORTS: ("CKV_AWS_352",),
}

CHECKS: dict[Waiver, Checks] = {
    Waiver.FUNCTION_LOG_RETENTION: _RETENTION,
    Waiver.FLOW_LOG_RETENTION: _RETENTION,
    Waiver.EMPTIER_LOG_RETENTION: _RETENTION,
    Waiver.PACKAGE_NOT_SIGNED: _UNSIGNED,
    Waiver.INLINE_CODE_NOT_SIGNED: _UNSIGNED,
    Waiver.PROBES_FROM_OUTSIDE_VPC: _OUTSIDE_VPC,
    Waiver.WRITER_OUTSIDE_VPC: _OUTSIDE_VPC,
    Waiver.EMPTIER_OUTSIDE_VPC: _OUTSIDE_VPC,
    Waiver.INVOKER_OUTSIDE_VPC: _OUTSIDE_VPC,
    # The Terraform check passes a bucket that is another bucket's aws_s3_bucket_logging
    # target, so only CloudFormation's flags the access-log bucket.
    Waiver.ACCESS_LOG_BUCKET_NOT_LOGGED: Checks(("CKV_AWS_18",), ()),
    Waiver.ARTIFACTS_NOT_LOGGED: _NOT_LOGGED,
    Waiver.SSE_S3_FOR_ACCESS_LOGS: Checks(("CKV_AWS_145",), ("CKV_AWS_145",)),
    Waiver.NOT_REPLICATED: _NOT_REPLICATED,
    Waiver.ARTIFACTS_NOT_REPLICATED: _NOT_REPLICATED,
    Waiver.DEPLOY_ROLE_ADMINISTERS: Checks(("CKV_AWS_274",), ("CKV_AWS_274",)),
    Waiver.ACCOUNT_TRUST: _ACCOUNT_TRUST,
    Waiver.DEPLOYING_ACCOUNT_TRUST: _ACCOUNT_TRUST,
    Waiver.DESTROYABLE_CLUSTER: Checks(("CKV_AWS_139",), ("CKV_AWS_139",)),
    Waiver.DESTROYABLE_LOAD_BALANCER: Checks(("CKV_AWS_150",), ("CKV_AWS_150",)),
    **{waiver: Checks((), ids) for waiver, ids in _TERRAFORM_ONLY.items()},
}


def skips(backend: Backend, waived: tuple[Waived, ...]) -> list[dict[str, str]]:
    """checkov's inline skip entries for one resource: each check a waiver maps to on this
    backend, with the waiver's reason, in the order the plan gives the waivers."""
    return [
        {"id": check, "comment": w.reason} for w in waived for check in CHECKS[w.waiver].of(backend)
    ]
