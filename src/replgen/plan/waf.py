"""AWS WAF rules in the WAFv2 API's JSON shape, decided once for every backend.

CloudFormation's ``Rules`` and Terraform's ``rule_json`` take the same document, so both
backends render exactly this list.
"""

from __future__ import annotations

from typing import Any

from replgen.plan.model import WebAcl


def rules(acl: WebAcl) -> list[dict[str, Any]]:
    """The rate limit per source IP first (cheapest, and a flood never reaches the managed
    groups), then each managed group with its own actions."""
    rate = {
        "Name": "rate-limit-per-ip",
        "Priority": 0,
        "Action": {"Block": {}},
        "Statement": {"RateBasedStatement": {"Limit": acl.rate_limit, "AggregateKeyType": "IP"}},
        "VisibilityConfig": visibility(f"{acl.name}-rate-limit"),
    }
    managed = [
        {
            "Name": group,
            "Priority": priority,
            "OverrideAction": {"None": {}},
            "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": group}},
            "VisibilityConfig": visibility(f"{acl.name}-{group}"),
        }
        for priority, group in enumerate(acl.managed_rule_groups, start=1)
    ]
    return [rate, *managed]


def visibility(metric: str) -> dict[str, Any]:
    return {"CloudWatchMetricsEnabled": True, "MetricName": metric, "SampledRequestsEnabled": True}
