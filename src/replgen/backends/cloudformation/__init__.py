"""CloudFormation backend (troposphere): a template per site, per site foundation, per
peering side, and a manifest."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import troposphere as t

from replgen import jsontext
from replgen.backends import Options, Unsupported
from replgen.backends.cloudformation import (
    backup,
    bootstrap,
    buckets,
    database,
    dns,
    emptier,
    functions,
    invocations,
    keys,
    monitoring,
    network,
    parameters,
    peering,
    processing,
    roles,
    sessions,
    waf,
)
from replgen.backends.cloudformation.context import Ctx, camel, output_name
from replgen.backends.provenance import Origin, Rendered, kinds_of, window
from replgen.plan import model
from replgen.plan.layout import PER_SITE, Layout, StackSlot, check_reads, lay_out
from replgen.plan.model import Plan, Site

# The renderer of each kind of component (plan/components.py); each adds a site's
# components of its kinds to the template, in this order.
RENDERERS: dict[type, Callable[[Ctx, Site], None]] = {
    model.Role: roles.render,
    model.Key: keys.render,
    model.Network: network.render,
    model.Database: database.render,
    model.Parameter: parameters.render,
    model.ParameterWriter: parameters.render,
    model.Bucket: buckets.render,
    model.Topic: monitoring.render,
    model.Alarm: monitoring.render,
    model.Queue: functions.render,
    model.Function: functions.render,
    model.StateMachine: functions.render,
    model.Schedule: functions.render,
    model.Permission: functions.render,
    model.Invocation: invocations.render,
    model.Invoker: invocations.render,
    model.LoadBalancer: processing.render,
    model.EventSource: processing.render,
    model.WebAcl: waf.render,
    model.Zone: dns.render,
    model.HealthCheck: dns.render,
    model.Record: dns.render,
    model.GlobalTable: sessions.render,
    model.BackupPlan: backup.render,
    model.Emptier: emptier.render,
}
# Kinds this backend builds nothing for, and why: none.
NOT_RENDERED: dict[type, str] = {}
COMPONENTS = tuple(dict.fromkeys(RENDERERS.values()))
KINDS = kinds_of(RENDERERS)
# What a foundation can hold; each renders only the components its template owns.
FOUNDATION: tuple[Callable[[Ctx, Site], None], ...] = (
    roles.render,
    keys.render,
    buckets.render,
    dns.render,
    emptier.render,
)


# Templates larger than this cannot be passed inline (TemplateBody): they go through S3.
TEMPLATE_BODY_LIMIT = 51_200
# IAM resource types, and the property that names each (a name needs CAPABILITY_NAMED_IAM).
IAM_NAMES = {
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::User": "UserName",
    "AWS::IAM::Group": "GroupName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
    "AWS::IAM::Policy": "",
}
# Parameters no stack output feeds: `replgen deploy` fills them itself.
DEPLOYER = {
    bootstrap.DEPLOY_FROM: "deployer account: --deploy-from, else the spec's state.deploy_from, "
    "else the account of the credentials replgen deploy runs with"
}


def _render(ctx: Ctx, site: Site, renderers: tuple[Callable[[Ctx, Site], None], ...]) -> None:
    """Each renderer in turn, what it adds attributed to the components it was called for."""
    for renderer in renderers:
        with ctx.part(window(site, KINDS.get(renderer, ()))):
            renderer(ctx, site)


@dataclass(frozen=True)
class StackSpec:
    slot: StackSlot
    ctx: Ctx

    @property
    def name(self) -> str:
        return self.slot.name

    @property
    def template(self) -> str:
        return f"{self.slot.stem}.json"


def _new_ctx(layout: Layout, slot: StackSlot, foundation: bool = False) -> Ctx:
    plan = layout.plan
    template = t.Template(Description=f"replgen {plan.name}-{plan.suffix}: {slot.role}")
    template.set_version("2010-09-09")
    return Ctx(
        plan, template, False, lambda r: layout.stack_of(r.site, r.component), foundation=foundation
    )


def _site_stack(layout: Layout, slot: StackSlot) -> StackSpec:
    (site,) = slot.sites
    ctx = _new_ctx(layout, slot)
    _render(ctx, site, COMPONENTS)
    _outputs(ctx, site)
    if site.database.secret is not None:
        # Hosted rotation (RotationSchedule.HostedRotationLambda) is expanded by this macro.
        ctx.template.set_transform("AWS::SecretsManager-2020-07-23")
    return StackSpec(slot, ctx)


def _outputs(ctx: Ctx, site: Site) -> None:
    """The plan's outputs for the people deploying, by the plan's names."""
    for name, value in site.outputs:
        lid = camel(name)
        if lid not in ctx.template.outputs:
            ctx.template.add_output(t.Output(lid, Value=ctx.value(value, site)))


def _foundation_stack(layout: Layout, slot: StackSlot) -> StackSpec:
    (site,) = slot.sites
    ctx = _new_ctx(layout, slot, foundation=True)
    _render(ctx, site, FOUNDATION)
    return StackSpec(slot, ctx)


def _bootstrap_stack(layout: Layout, slot: StackSlot) -> StackSpec:
    assert slot.bootstrap is not None
    ctx = _new_ctx(layout, slot)
    with ctx.part(Origin(None, (f"bootstrap:{slot.bootstrap.slug}",))):
        bootstrap.render(ctx, slot.bootstrap)
    return StackSpec(slot, ctx)


def _export_read_values(layout: Layout, stacks: list[StackSpec]) -> None:
    """Each stack outputs what other stacks read from it and what a pause after it shows
    the people deploying (`Layout.outputs`)."""
    plan = layout.plan
    for stack in stacks:
        for ref in layout.outputs(stack.name):
            if output_name(ref) not in stack.ctx.template.outputs:
                value = stack.ctx.ref(ref, plan.site(ref.site))
                stack.ctx.template.add_output(t.Output(output_name(ref), Value=value))


def _peering_stack(layout: Layout, slot: StackSlot) -> StackSpec:
    p = slot.peering
    assert p is not None
    ctx = _new_ctx(layout, slot)
    with ctx.part(_peering_origin(p)):
        if slot.kind == "peering":
            peering.render_requester(ctx, p)
        else:
            peering.render_accepter(ctx, p, layout.requester_of(p))
    return StackSpec(slot, ctx)


def _peering_origin(p: model.Peering) -> Origin:
    return Origin(None, (f"peering:{p.id}",))


# Each kind of stack in the layout, and what renders it.
STACKS: dict[str, Callable[[Layout, StackSlot], StackSpec]] = {
    "bootstrap": _bootstrap_stack,
    "foundation": _foundation_stack,
    "site": _site_stack,
    "peering": _peering_stack,
    "accept": _peering_stack,
}


def _ordered(layout: Layout, stacks: list[StackSpec]) -> list[tuple[StackSpec, list[str]]]:
    """Stacks with their dependencies, in the layout's deploy order."""
    by_name = {s.name: s for s in stacks}
    return [(by_name[n], layout.depends(n)) for n in layout.deploy_order()]


def capabilities(template: dict[str, Any]) -> list[str]:
    """What CloudFormation must be told the template does: IAM, named IAM, macros."""
    found: set[str] = set()
    for resource in template.get("Resources", {}).values():
        kind = resource.get("Type", "")
        if kind in IAM_NAMES:
            named = IAM_NAMES[kind] in resource.get("Properties", {})
            found.add("CAPABILITY_NAMED_IAM" if named else "CAPABILITY_IAM")
        if kind == "AWS::CloudFormation::Stack" or kind.startswith("AWS::Serverless::"):
            found.add("CAPABILITY_AUTO_EXPAND")
    if template.get("Transform"):
        found.add("CAPABILITY_AUTO_EXPAND")
    if "CAPABILITY_NAMED_IAM" in found:
        found.discard("CAPABILITY_IAM")  # named includes unnamed
    return sorted(found)


def _parameters(s: StackSpec) -> dict[str, dict[str, Any]]:
    """Every parameter no input feeds: its default, or who fills it. None is left to invent."""
    out: dict[str, dict[str, Any]] = {}
    for name, param in sorted(s.ctx.template.parameters.items()):
        if name in s.ctx.inputs:
            continue
        if name in DEPLOYER:
            out[name] = {"source": "deployer", "description": DEPLOYER[name]}
            if "Default" in param.properties:  # the spec names it; --deploy-from still wins
                out[name]["Default"] = param.properties["Default"]
        elif "Default" in param.properties:
            out[name] = {"Default": param.properties["Default"]}
        else:
            raise RuntimeError(f"{s.template}: parameter {name} has no default and no source")
    return out


def _entry(s: StackSpec, deps: list[str], template: dict[str, Any], body: bytes) -> dict[str, Any]:
    return {
        "name": s.name,
        "template": s.template,
        "template_bytes": len(body),
        "template_via": "s3" if len(body) > TEMPLATE_BODY_LIMIT else "inline",
        "account": s.slot.account_id,
        "region": s.slot.region,
        "bootstrap": s.slot.kind == "bootstrap",
        "production": s.slot.production,
        "capabilities": capabilities(template),
        "depends_on": deps,
        "parameters": _parameters(s),
        "inputs": {
            p: {"stack": i.stack, "output": i.output} for p, i in sorted(s.ctx.inputs.items())
        },
    }


def _pauses(layout: Layout) -> list[dict[str, Any]]:
    return [
        {
            "after": layout.stack_of(p.site, p.component),
            "reason": p.reason,
            "show": [
                {"stack": layout.stack_of(r.site, r.component), "output": output_name(r)}
                for r in p.show
            ],
        }
        for p in layout.plan.pauses
    ]


def _manifest(
    layout: Layout,
    ordered: list[tuple[StackSpec, list[str]]],
    templates: dict[str, dict[str, Any]],
    files: dict[str, bytes],
) -> dict[str, object]:
    plan = layout.plan
    return {
        "topology": plan.name,
        "suffix": plan.suffix,
        "deploy": "in order; each stack's inputs come from the outputs of stacks above it",
        "template_body_limit": TEMPLATE_BODY_LIMIT,
        "artifacts": {
            "prefix": plan.bootstrap[0].artifact_prefix if plan.bootstrap else "",
            "zips": sorted({f.code.filename for site in plan.sites for f in site.functions}),
        },
        "pauses": _pauses(layout),
        "stacks": [_entry(s, d, templates[s.template], files[s.template]) for s, d in ordered],
    }


def _json(document: object) -> bytes:
    return (jsontext.dumps(document) + "\n").encode()


def _render_single(plan: Plan) -> Rendered:
    accounts = {(s.account_id, s.region) for s in plan.sites}
    if len(accounts) != 1:
        raise Unsupported("--layout single needs every site in one account and region")
    template = t.Template(Description=f"replgen {plan.name}-{plan.suffix}: every site")
    template.set_version("2010-09-09")
    ctx = Ctx(plan, template, True, lambda r: "")
    for site in plan.sites:
        _render(ctx, site, COMPONENTS)
    for p in plan.peerings:
        with ctx.part(_peering_origin(p)):
            peering.render_single(ctx, p)
    name = f"{plan.name}.json"
    return Rendered({name: _json(ctx.template.to_dict())}, {name: ctx.provenance})


class CloudFormation:
    name = "cloudformation"

    def render(self, plan: Plan, options: Options) -> Rendered:
        if options.layout == "single":
            return _render_single(plan)
        stacks_layout = lay_out(plan, PER_SITE)
        stacks = [STACKS[slot.kind](stacks_layout, slot) for slot in stacks_layout.stacks]
        for stack in stacks:
            read = {i.ref for i in stack.ctx.inputs.values() if i.ref is not None}
            check_reads(stacks_layout, stack.name, read)
        _export_read_values(stacks_layout, stacks)
        ordered = _ordered(stacks_layout, stacks)
        # Each template encoded once (troposphere's to_dict validates and walks every
        # object): its file and its manifest entry read the same dict.
        templates = {s.template: s.ctx.template.to_dict() for s, _ in ordered}
        files = {name: _json(template) for name, template in templates.items()}
        files["manifest.json"] = _json(_manifest(stacks_layout, ordered, templates, files))
        return Rendered(files, {s.template: s.ctx.provenance for s, _ in ordered})


BACKEND = CloudFormation()
__all__ = ["BACKEND", "camel"]
