"""The web ACL in front of each ALB: a rate limit per source IP and AWS's managed rule groups,
logged to an encrypted log group."""

from __future__ import annotations

from typing import Any

import troposphere as t
import troposphere.wafv2 as waf

from replgen.backends.cloudformation.context import Ctx, log_group, tags
from replgen.plan import waf as plan_waf
from replgen.plan.model import Site


def render(ctx: Ctx, site: Site) -> None:
    if site.load_balancer is None:
        return
    acl = site.load_balancer.web_acl
    lid = ctx.lid(site, "WebAcl")
    ctx.add(
        waf.WebACL(
            lid,
            Name=acl.name,
            Scope="REGIONAL",
            DefaultAction=waf.DefaultAction(Allow=waf.AllowAction()),
            Rules=_Document(plan_waf.rules(acl)),
            VisibilityConfig=_visibility(acl.name),
            Tags=tags(ctx.plan, acl.name),
        )
    )
    ctx.add(
        waf.WebACLAssociation(
            ctx.lid(site, "WebAclAssociation"),
            ResourceArn=t.Ref(ctx.lid(site, "LoadBalancer")),
            WebACLArn=t.GetAtt(lid, "Arn"),
        )
    )
    group = ctx.lid(site, "WebAclLogGroup")
    log_group(ctx, site, group, acl.log_group)
    ctx.add(
        waf.LoggingConfiguration(
            ctx.lid(site, "WebAclLogging"),
            ResourceArn=t.GetAtt(lid, "Arn"),
            # WAF wants the group's ARN without the ":*" that GetAtt Arn carries.
            LogDestinationConfigs=[
                t.Sub(
                    f"arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:"
                    f"log-group:{acl.log_group.name}"
                )
            ],
            DependsOn=[group],
        )
    )


class _Document(t.AWSHelperFn):  # type: ignore[misc]
    """A plan document passed through as is: troposphere cannot build a WAF Statement from a
    dict, and the document is already in the API's shape."""

    def __init__(self, data: Any) -> None:
        self.data = data


def _visibility(metric: str) -> waf.VisibilityConfig:
    return waf.VisibilityConfig.from_dict(None, plan_waf.visibility(metric))
