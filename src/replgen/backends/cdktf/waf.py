"""The web ACL in front of each ALB: a rate limit per source IP and AWS's managed rule groups,
logged to an encrypted log group. The rules are the plan's document, as CloudFormation's."""

from __future__ import annotations

from typing import Any

from cdktf_cdktf_provider_aws.wafv2_web_acl import (
    Wafv2WebAcl,
    Wafv2WebAclDefaultAction,
    Wafv2WebAclDefaultActionAllow,
    Wafv2WebAclRule,
    Wafv2WebAclRuleAction,
    Wafv2WebAclRuleActionBlock,
    Wafv2WebAclRuleOverrideAction,
    Wafv2WebAclRuleOverrideActionNone,
    Wafv2WebAclRuleVisibilityConfig,
    Wafv2WebAclVisibilityConfig,
)
from cdktf_cdktf_provider_aws.wafv2_web_acl_association import Wafv2WebAclAssociation
from cdktf_cdktf_provider_aws.wafv2_web_acl_logging_configuration import (
    Wafv2WebAclLoggingConfiguration,
)
from constructs import Construct

from replgen.backends.cdktf.context import Ctx, log_group, tags
from replgen.plan import waf as plan_waf
from replgen.plan.model import Site


class Waf(Construct):
    def __init__(self, scope: Construct, id: str, ctx: Ctx, site: Site) -> None:
        super().__init__(scope, id)
        if site.load_balancer is None:
            return
        acl = site.load_balancer.web_acl
        web_acl = Wafv2WebAcl(
            self,
            "web_acl",
            name=acl.name,
            scope="REGIONAL",
            default_action=Wafv2WebAclDefaultAction(allow=Wafv2WebAclDefaultActionAllow()),
            rule=[_rule(rule) for rule in plan_waf.rules(acl)],
            visibility_config=Wafv2WebAclVisibilityConfig(
                **_visibility(plan_waf.visibility(acl.name))
            ),
            tags=tags(acl.name),
        )
        Wafv2WebAclAssociation(
            self,
            "web_acl_association",
            resource_arn=ctx.get(site, "load_balancer").arn,
            web_acl_arn=web_acl.arn,
        )
        logs = log_group(self, "web_acl_log_group", ctx, acl.log_group)
        Wafv2WebAclLoggingConfiguration(
            self,
            "web_acl_logging",
            resource_arn=web_acl.arn,
            log_destination_configs=[logs.arn],
        )


def _rule(document: dict[str, Any]) -> Wafv2WebAclRule:
    """The plan's rule document as Terraform's typed blocks (not ``rule_json``, so that
    checkov reads the same rules Terraform applies)."""
    statement = document["Statement"]
    common = {
        "name": document["Name"],
        "priority": document["Priority"],
        "visibility_config": Wafv2WebAclRuleVisibilityConfig(
            **_visibility(document["VisibilityConfig"])
        ),
    }
    if "RateBasedStatement" in statement:
        rate = statement["RateBasedStatement"]
        return Wafv2WebAclRule(
            action=Wafv2WebAclRuleAction(block=Wafv2WebAclRuleActionBlock()),
            # The bindings leave statements untyped (too deep): Terraform's block names.
            statement={
                "rate_based_statement": {
                    "limit": rate["Limit"],
                    "aggregate_key_type": rate["AggregateKeyType"],
                }
            },
            **common,
        )
    group = statement["ManagedRuleGroupStatement"]
    return Wafv2WebAclRule(
        override_action=Wafv2WebAclRuleOverrideAction(none=Wafv2WebAclRuleOverrideActionNone()),
        statement={
            "managed_rule_group_statement": {
                "name": group["Name"],
                "vendor_name": group["VendorName"],
            }
        },
        **common,
    )


def _visibility(document: dict[str, Any]) -> dict[str, Any]:
    return {
        "cloudwatch_metrics_enabled": document["CloudWatchMetricsEnabled"],
        "metric_name": document["MetricName"],
        "sampled_requests_enabled": document["SampledRequestsEnabled"],
    }
