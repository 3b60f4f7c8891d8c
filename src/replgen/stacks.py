"""The stacks a plan deploys, in deploy order, for `replgen plan`.

The order and the wiring (which stack's outputs feed which) are the CloudFormation
backend's manifest: read from its rendering in memory, never re-derived here and never
written to disk. Rendering CloudFormation costs about a second; no CDKTF synth is needed.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from rich.table import Table

from replgen.backends import Options
from replgen.plan.layout import PER_SITE, lay_out
from replgen.plan.model import Plan

# What a resource is, by its service, in the words of the plan's components.
KINDS = {
    "EC2": "network",
    "RDS": "database",
    "IAM": "roles",
    "KMS": "keys",
    "S3": "buckets",
    "SNS": "topics",
    "SQS": "queues",
    "Logs": "log groups",
    "Lambda": "functions",
    "CloudWatch": "alarms",
    "Events": "schedules",
    "StepFunctions": "state machines",
    "SSM": "parameters",
    "SecureStringParameter": "parameters",
    "SecretsManager": "secrets",
    "ElasticLoadBalancingV2": "load balancer",
    "CertificateManager": "certificates",
    "Route53": "DNS",
    "DynamoDB": "tables",
    "Backup": "backup",
}


@dataclass(frozen=True)
class Input:
    parameter: str
    stack: str
    output: str


@dataclass(frozen=True)
class Stack:
    order: int  # 1 is deployed first
    name: str
    template: str
    account: str
    region: str
    role: str  # "site dev", "foundation of site prod/us-east-1", "peering dev-staging ..."
    resources: int
    holds: dict[str, int]  # kind of resource -> how many, most first
    depends_on: tuple[str, ...]
    inputs: tuple[Input, ...]


def deploy_order(plan: Plan) -> list[Stack]:
    """Every stack, in the order the CloudFormation manifest deploys them."""
    from replgen.backends.cloudformation import BACKEND

    files = BACKEND.render(plan, Options())
    manifest = json.loads(files["manifest.json"])
    roles = {slot.name: slot.role for slot in lay_out(plan, PER_SITE).stacks}
    return [
        _stack(i, entry, roles[entry["name"]], json.loads(files[entry["template"]]))
        for i, entry in enumerate(manifest["stacks"], 1)
    ]


def _stack(order: int, entry: dict[str, Any], role: str, template: dict[str, Any]) -> Stack:
    kinds = Counter(_kind(r["Type"]) for r in template.get("Resources", {}).values())
    inputs = tuple(
        Input(p, i["stack"], i["output"]) for p, i in sorted(entry.get("inputs", {}).items())
    )
    return Stack(
        order,
        entry["name"],
        entry["template"],
        entry["account"],
        entry["region"],
        role,
        sum(kinds.values()),
        dict(sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))),
        tuple(entry.get("depends_on", ())),
        inputs,
    )


def _kind(resource_type: str) -> str:
    service = resource_type.split("::")[1]
    return KINDS.get(service, service.lower())


def summary(stacks: list[Stack], sites: dict[str, Any]) -> dict[str, Any]:
    """The JSON `replgen plan --json` prints: the sites and the stacks in deploy order."""
    return {**sites, "stacks": [asdict(s) for s in stacks]}


def holds(stack: Stack) -> str:
    return ", ".join(f"{kind} {n}" for kind, n in stack.holds.items())


def feeds(stack: Stack) -> list[str]:
    """`<stack>: Output, Output` for each stack whose outputs this one takes."""
    by_stack: dict[str, list[str]] = {}
    for i in stack.inputs:
        by_stack.setdefault(i.stack, []).append(i.output)
    return [f"{name}: {', '.join(sorted(set(outs)))}" for name, outs in by_stack.items()]


def as_text(title: str, stacks: list[Stack]) -> str:
    """Plain lines for a CI log: nothing truncated, one field per line."""
    lines = [f"{title}: {len(stacks)} stacks, deploy in this order"]
    for s in stacks:
        lines += [
            f"{s.order}. {s.name} ({s.role})",
            f"   account {s.account}, region {s.region}, template {s.template}",
            f"   {s.resources} resource{'' if s.resources == 1 else 's'}: {holds(s)}",
        ]
        lines += [f"   takes outputs of {f}" for f in feeds(s)]
    return "\n".join(lines) + "\n"


def sites_text(described: dict[str, Any]) -> str:
    """One line per site: what its main stack builds, from `compiler.describe`."""
    lines = ["sites:"]
    for s in described["sites"]:
        production = ", production" if s["production"] else ""
        functions = ", ".join(s["functions"]) or "no functions"
        lines.append(
            f"  {s['id']}{production}: vpc {s['vpc']}, cluster {s['cluster']} "
            f"({s['engine']}, {s['instances']}), {functions}, {len(s['alarms'])} alarms"
        )
    for p in described["peerings"]:
        kind = ", ".join(k for k in ("cross_account", "cross_region") if p[k]) or "same account"
        lines.append(f"peering {p['requester']} -> {p['accepter']} ({kind}), port {p['port']} only")
    return "\n".join(lines) + "\n"


def table(title: str, stacks: list[Stack]) -> Table:
    """The same as `as_text`, as a table for a terminal; long cells wrap, never cut."""
    grid = Table(title=f"{title}: deploy in this order")
    for column in ("#", "stack", "account / region", "resources", "takes outputs of"):
        grid.add_column(column, overflow="fold", no_wrap=column in ("#", "account / region"))
    for s in stacks:
        grid.add_row(
            str(s.order),
            f"{s.name}\n{s.role}",
            f"{s.account}\n{s.region}",
            f"{s.resources}: {holds(s)}",
            "\n".join(feeds(s)) or "-",
        )
    return grid
