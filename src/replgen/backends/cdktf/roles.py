"""The site's IAM roles: trust, one inline policy of exact statements, managed policies."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.iam_role import IamRole, IamRoleInlinePolicy
from constructs import Construct

from replgen.backends.cdktf.context import Ctx, skip, snake
from replgen.plan.model import Role, Site


class Roles(Construct):
    def __init__(self, scope: Construct, id: str, ctx: Ctx, site: Site) -> None:
        super().__init__(scope, id)
        for role in site.roles:
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
        if role.trusted_roles:
            # CKV_AWS_61's Terraform twin flags any account principal, whatever narrows it.
            skip(resource, ("CKV_AWS_61", _trust_reason(role)))
        return resource


def _trust_reason(role: Role) -> str:
    return "; ".join(
        f"account {account} is trusted only for {arn} (aws:PrincipalArn condition): IAM "
        "rejects a role principal that does not exist yet, and that role is created elsewhere"
        if not arn.endswith(":root")
        else f"the plan trusts account {account} itself: it names no narrower principal there"
        for account, arn in role.trusted_roles
    )
