"""The site's IAM roles: trust, one inline policy of exact statements, managed policies."""

from __future__ import annotations

from typing import Any

import troposphere.iam as iam

from replgen.backends.cloudformation.context import Ctx, skip, tags
from replgen.plan.iam import trust_reason
from replgen.plan.model import Role, Site


def render(ctx: Ctx, site: Site) -> None:
    for role in ctx.each(site, site.roles):
        if ctx.owns(site, role.key):
            ctx.add(_role(ctx, site, role))


def _role(ctx: Ctx, site: Site, role: Role) -> iam.Role:
    extra: dict[str, Any] = {}
    if role.statements:
        extra["Policies"] = [
            iam.Policy(PolicyName=role.name, PolicyDocument=ctx.policy(role.statements, site))
        ]
    if role.managed_policies:
        extra["ManagedPolicyArns"] = list(role.managed_policies)
    metadata = _skips(role)
    if metadata:
        extra["Metadata"] = metadata
    return iam.Role(
        ctx.role_lid(site, role.key),
        RoleName=role.name,
        AssumeRolePolicyDocument=ctx.trust(role),
        Tags=tags(ctx.plan),
        **extra,
    )


def _skips(role: Role) -> dict[str, Any]:
    # CKV_AWS_61 fails any trust policy whose principal is an account, whatever narrows it.
    if not role.trusted_roles:
        return {}
    return skip(("CKV_AWS_61", trust_reason(role)))
