"""The site's IAM roles: trust, one inline policy of exact statements, managed policies."""

from __future__ import annotations

from typing import Any

import troposphere.iam as iam

from replgen.backends.cloudformation.context import Ctx, skipped, tags
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
    return iam.Role(
        ctx.role_lid(site, role.key),
        RoleName=role.name,
        AssumeRolePolicyDocument=ctx.trust(role),
        Tags=tags(ctx.plan),
        **extra,
        **skipped(role.waivers),
    )
