"""The site's IAM roles: trust, one inline policy of exact statements, managed policies."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.iam_role import IamRole, IamRoleInlinePolicy
from constructs import Construct

from replgen.backends.cdktf.context import Ctx, skip, snake
from replgen.plan.model import Role, Site


class Roles(Construct):
    def __init__(self, scope: Construct, id: str, ctx: Ctx, site: Site) -> None:
        super().__init__(scope, id)
        for role in ctx.each(self, site, site.roles):
            if ctx.here(site, role.key):  # the replication role is built with the buckets
                ctx.keep(site, role.key, self._role(ctx, role))

    def _role(self, ctx: Ctx, role: Role) -> IamRole:
        inline = (
            [IamRoleInlinePolicy(name=role.name, policy=ctx.policy(role.statements))]
            if role.statements
            else None
        )
        resource = IamRole(
            self,
            snake(role.key),
            name=role.name,
            assume_role_policy=ctx.trust(role),
            inline_policy=inline,
            managed_policy_arns=list(role.managed_policies) or None,
        )
        skip(resource, role.waivers)
        return resource
