"""Rendering a plan with the CloudFormation backend in-process, and reading the templates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from replgen.backends import Options
from replgen.backends.cloudformation import BACKEND
from replgen.plan.build import build
from replgen.plan.model import Code, Plan
from replgen.spec.load import load

ROOT = Path(__file__).parents[2]
ARTIFACTS = {
    name: Code(name, f"{name}-0123456789ab.zip", "0" * 64, "AAAA")
    for name in ("replsync", "txnproc")
}

Template = dict[str, Any]


def plan_of(path: str) -> Plan:
    return build(load(ROOT / path).spec, ARTIFACTS)


def render(plan: Plan, layout: str = "stacks") -> dict[str, Template]:
    files = BACKEND.render(plan, Options(layout=layout))  # type: ignore[arg-type]
    return {name: json.loads(body) for name, body in files.items()}


def ref(lid: str) -> dict[str, str]:
    return {"Ref": lid}


def getatt(lid: str, attr: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [lid, attr]}


def res(template: Template, lid: str) -> dict[str, Any]:
    return template["Resources"][lid]  # type: ignore[no-any-return]


def props(template: Template, lid: str) -> dict[str, Any]:
    return res(template, lid)["Properties"]  # type: ignore[no-any-return]


def of_type(template: Template, kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template.get("Resources", {}).items() if v["Type"] == kind}


def skips(resource: dict[str, Any]) -> dict[str, str]:
    checks = resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    return {s["id"]: s["comment"] for s in checks}


def tag(resource_props: dict[str, Any], key: str, field: str = "Tags") -> str | None:
    return next((t["Value"] for t in resource_props.get(field, []) if t["Key"] == key), None)
