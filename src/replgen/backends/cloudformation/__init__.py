"""CloudFormation backend (troposphere): a template per site, per site foundation, per
peering side, and a manifest."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import troposphere as t

from replgen.backends import Options, Unsupported
from replgen.backends.cloudformation import (
    backup,
    bootstrap,
    database,
    failover,
    invocations,
    keys,
    migrations,
    monitoring,
    network,
    parameters,
    peering,
    processing,
    roles,
    sessions,
    sync,
    waf,
)
from replgen.backends.cloudformation.context import Ctx, bootstrap_stack, camel, output_name
from replgen.plan.model import Bootstrap, Peering, Plan, Ref, Site

# One renderer per component; each adds one site's resources to the template.
COMPONENTS: tuple[Callable[[Ctx, Site], None], ...] = (
    roles.render,
    keys.render,
    network.render,
    database.render,
    parameters.render,
    migrations.render,
    monitoring.render,
    sync.render,
    invocations.render,
    processing.render,
    waf.render,
    failover.render,
    sessions.render,
    backup.render,
)
# What a foundation can hold; each renders only the components its template owns.
FOUNDATION: tuple[Callable[[Ctx, Site], None], ...] = (
    roles.render,
    keys.render,
    migrations.render,
    failover.render,
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


@dataclass(frozen=True)
class StackSpec:
    name: str
    template: str
    account: str
    region: str
    ctx: Ctx
    production: bool = False  # holds a production environment's resources (or its peering)
    bootstrap: bool = False


def stack_name(plan: Plan, *parts: str) -> str:
    return "-".join((plan.name, plan.suffix, *parts))


def _new_template(description: str) -> t.Template:
    template = t.Template(Description=description)
    template.set_version("2010-09-09")
    return template


def _stack_of(plan: Plan) -> Callable[[Ref], str]:
    """The stack holding a component: its site's foundation, or its site's main stack."""

    def stack_of(ref: Ref) -> str:
        site = plan.site(ref.site)
        if ref.component in site.foundation:
            return stack_name(plan, site.slug, "foundation")
        return stack_name(plan, site.slug)

    return stack_of


def _site_stack(plan: Plan, site: Site) -> StackSpec:
    ctx = Ctx(
        plan,
        _new_template(f"replgen {plan.name}-{plan.suffix}: site {site.id}"),
        False,
        _stack_of(plan),
    )
    for component in COMPONENTS:
        component(ctx, site)
    for ref in site.exports:
        if ctx.owns(site, ref.component):
            ctx.template.add_output(t.Output(output_name(ref), Value=ctx.ref(ref, site)))
    _outputs(ctx, site)
    if site.database.secret is not None:
        # Hosted rotation (RotationSchedule.HostedRotationLambda) is expanded by this macro.
        ctx.template.set_transform("AWS::SecretsManager-2020-07-23")
    return StackSpec(
        stack_name(plan, site.slug),
        f"{site.slug}.json",
        site.account_id,
        site.region,
        ctx,
        site.production,
    )


def _outputs(ctx: Ctx, site: Site) -> None:
    """The plan's outputs for the people deploying. One the stack already exports for
    another stack under the same name (a cluster endpoint) is that same value: kept once."""
    for name, value in site.outputs:
        lid = camel(name)
        if lid not in ctx.template.outputs:
            ctx.template.add_output(t.Output(lid, Value=ctx.value(value, site)))


def _foundation_stack(plan: Plan, site: Site) -> StackSpec:
    ctx = Ctx(
        plan,
        _new_template(f"replgen {plan.name}-{plan.suffix}: foundation of site {site.id}"),
        False,
        _stack_of(plan),
        foundation=True,
    )
    for component in FOUNDATION:
        component(ctx, site)
    return StackSpec(
        stack_name(plan, site.slug, "foundation"),
        f"{site.slug}-foundation.json",
        site.account_id,
        site.region,
        ctx,
        site.production,
    )


def _bootstrap_stack(plan: Plan, boot: Bootstrap) -> StackSpec:
    ctx = Ctx(
        plan,
        _new_template(
            f"replgen {plan.name}-{plan.suffix}: bootstrap of {boot.account_id} {boot.region}"
        ),
        False,
        _stack_of(plan),
    )
    bootstrap.render(ctx, boot)
    return StackSpec(
        bootstrap_stack(plan, boot),
        f"bootstrap-{boot.slug}.json",
        boot.account_id,
        boot.region,
        ctx,
        bootstrap=True,
    )


def _export_read_values(plan: Plan, stacks: list[StackSpec]) -> None:
    """Each stack outputs what the plan exports from it, what any stack reads from it, and
    what a pause after it shows the people deploying."""
    by_name = {s.name: s for s in stacks}
    wanted = [r for site in plan.sites for r in site.exports if r.component in site.foundation]
    wanted += [i.ref for s in stacks for i in s.ctx.inputs.values() if i.ref is not None]
    wanted += [r for pause in plan.pauses for r in pause.show]
    for ref in wanted:
        stack = by_name.get(_stack_of(plan)(ref))
        if stack is not None and output_name(ref) not in stack.ctx.template.outputs:
            site = plan.site(ref.site)
            stack.ctx.template.add_output(
                t.Output(output_name(ref), Value=stack.ctx.ref(ref, site))
            )


def _peering_stacks(plan: Plan, p: Peering) -> list[StackSpec]:
    name = _stack_of(plan)
    req, acc = plan.site(p.requester), plan.site(p.accepter)
    request = Ctx(
        plan,
        _new_template(f"replgen {plan.name}-{plan.suffix}: peering {p.id} (requester)"),
        False,
        name,
    )
    peering.render_requester(request, p)
    accept = Ctx(
        plan,
        _new_template(f"replgen {plan.name}-{plan.suffix}: peering {p.id} (accepter)"),
        False,
        name,
    )
    request_name = stack_name(plan, "peering", p.id)
    peering.render_accepter(accept, p, request_name)
    production = req.production or acc.production
    return [
        StackSpec(
            request_name,
            f"peering-{p.id}.json",
            req.account_id,
            req.region,
            request,
            production,
        ),
        StackSpec(
            stack_name(plan, "peering", p.id, "accept"),
            f"peering-{p.id}-accept.json",
            acc.account_id,
            acc.region,
            accept,
            production,
        ),
    ]


def _ordered(stacks: list[StackSpec]) -> list[tuple[StackSpec, list[str]]]:
    """Stacks with their dependencies, each after everything it reads from."""
    deps = {s.name: sorted({i.stack for i in s.ctx.inputs.values()}) for s in stacks}
    done: list[str] = []
    while len(done) < len(stacks):
        ready = [
            s.name for s in stacks if s.name not in done and all(d in done for d in deps[s.name])
        ]
        if not ready:
            raise RuntimeError(f"stack dependency cycle among {sorted(set(deps) - set(done))}")
        done.extend(ready)
    by_name = {s.name: s for s in stacks}
    return [(by_name[n], deps[n]) for n in done]


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


def _entry(s: StackSpec, deps: list[str], body: bytes) -> dict[str, Any]:
    return {
        "name": s.name,
        "template": s.template,
        "template_bytes": len(body),
        "template_via": "s3" if len(body) > TEMPLATE_BODY_LIMIT else "inline",
        "account": s.account,
        "region": s.region,
        "bootstrap": s.bootstrap,
        "production": s.production,
        "capabilities": capabilities(s.ctx.template.to_dict()),
        "depends_on": deps,
        "parameters": _parameters(s),
        "inputs": {
            p: {"stack": i.stack, "output": i.output} for p, i in sorted(s.ctx.inputs.items())
        },
    }


def _pauses(plan: Plan) -> list[dict[str, Any]]:
    stack_of = _stack_of(plan)
    return [
        {
            "after": stack_of(Ref(p.site, p.component, "")),
            "reason": p.reason,
            "show": [{"stack": stack_of(r), "output": output_name(r)} for r in p.show],
        }
        for p in plan.pauses
    ]


def _manifest(
    plan: Plan, ordered: list[tuple[StackSpec, list[str]]], files: dict[str, bytes]
) -> dict[str, object]:
    return {
        "topology": plan.name,
        "suffix": plan.suffix,
        "deploy": "in order; each stack's inputs come from the outputs of stacks above it",
        "template_body_limit": TEMPLATE_BODY_LIMIT,
        "artifacts": {
            "prefix": plan.bootstrap[0].artifact_prefix if plan.bootstrap else "",
            "zips": sorted({f.code.filename for site in plan.sites for f in site.functions}),
        },
        "pauses": _pauses(plan),
        "stacks": [_entry(s, d, files[s.template]) for s, d in ordered],
    }


def _json(document: object) -> bytes:
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()


def _render_single(plan: Plan) -> dict[str, bytes]:
    accounts = {(s.account_id, s.region) for s in plan.sites}
    if len(accounts) != 1:
        raise Unsupported("--layout single needs every site in one account and region")
    ctx = Ctx(
        plan, _new_template(f"replgen {plan.name}-{plan.suffix}: every site"), True, lambda r: ""
    )
    for site in plan.sites:
        for component in COMPONENTS:
            component(ctx, site)
    for p in plan.peerings:
        peering.render_single(ctx, p)
    return {f"{plan.name}.json": _json(ctx.template.to_dict())}


class CloudFormation:
    name = "cloudformation"

    def render(self, plan: Plan, options: Options) -> dict[str, bytes]:
        if options.layout == "single":
            return _render_single(plan)
        stacks = [_bootstrap_stack(plan, b) for b in plan.bootstrap]
        stacks += [_foundation_stack(plan, s) for s in plan.sites if s.foundation]
        stacks += [_site_stack(plan, s) for s in plan.sites]
        for p in plan.peerings:
            stacks.extend(_peering_stacks(plan, p))
        _export_read_values(plan, stacks)
        ordered = _ordered(stacks)
        files = {s.template: _json(s.ctx.template.to_dict()) for s, _ in ordered}
        files["manifest.json"] = _json(_manifest(plan, ordered, files))
        return files


BACKEND = CloudFormation()
__all__ = ["BACKEND", "camel"]
