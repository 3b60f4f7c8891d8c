"""CloudFormation backend (troposphere): a template per site, per site foundation, per
peering side, and a manifest."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import troposphere as t

from replgen.backends import Options, Unsupported
from replgen.backends.cloudformation import (
    backup,
    database,
    failover,
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
from replgen.backends.cloudformation.context import Ctx, camel, output_name
from replgen.plan.model import Peering, Plan, Ref, Site

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


@dataclass(frozen=True)
class StackSpec:
    name: str
    template: str
    account: str
    region: str
    ctx: Ctx


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
        stack_name(plan, site.slug), f"{site.slug}.json", site.account_id, site.region, ctx
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
    )


def _export_foundations(plan: Plan, stacks: list[StackSpec]) -> None:
    """Each foundation outputs what the plan exports from it and what any stack reads."""
    foundations = {s.name: s for s in stacks if s.ctx.foundation}
    wanted = [r for site in plan.sites for r in site.exports if r.component in site.foundation]
    wanted += [i.ref for s in stacks for i in s.ctx.inputs.values() if i.ref is not None]
    for ref in wanted:
        stack = foundations.get(_stack_of(plan)(ref))
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
    return [
        StackSpec(request_name, f"peering-{p.id}.json", req.account_id, req.region, request),
        StackSpec(
            stack_name(plan, "peering", p.id, "accept"),
            f"peering-{p.id}-accept.json",
            acc.account_id,
            acc.region,
            accept,
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


def _manifest(plan: Plan, ordered: list[tuple[StackSpec, list[str]]]) -> dict[str, object]:
    return {
        "topology": plan.name,
        "suffix": plan.suffix,
        "deploy": "in order; each stack's inputs come from the outputs of stacks above it",
        "stacks": [
            {
                "name": s.name,
                "template": s.template,
                "account": s.account,
                "region": s.region,
                "depends_on": d,
                "parameters": {
                    p: {"Default": param.properties.get("Default")}
                    for p, param in sorted(s.ctx.template.parameters.items())
                    if p not in s.ctx.inputs
                },
                "inputs": {
                    p: {"stack": i.stack, "output": i.output}
                    for p, i in sorted(s.ctx.inputs.items())
                },
            }
            for s, d in ordered
        ],
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
        stacks = [_foundation_stack(plan, s) for s in plan.sites if s.foundation]
        stacks += [_site_stack(plan, s) for s in plan.sites]
        for p in plan.peerings:
            stacks.extend(_peering_stacks(plan, p))
        _export_foundations(plan, stacks)
        ordered = _ordered(stacks)
        files = {s.template: _json(s.ctx.template.to_dict()) for s, _ in ordered}
        files["manifest.json"] = _json(_manifest(plan, ordered))
        return files


BACKEND = CloudFormation()
__all__ = ["BACKEND", "camel"]
