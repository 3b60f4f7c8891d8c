"""Which stack builds what, where it deploys, and in what order: decided once for every
backend.

Backends differ in one policy only (`Grouping`): CloudFormation deploys a stack per site
and each side of a peering in its own account, after a bootstrap stack per account and
region; Terraform groups the sites sharing an account alias and region into one stack
(adding or removing a site never renames it: a renamed stack is a new state) and builds
a peering in one stack with a provider per side. Everything else is the same: a site with
a foundation builds those components in a stack of its own, deployed before the stacks
reading it, and every name derives from what the stack holds, never from list positions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Literal

from replgen.plan import components
from replgen.plan.model import Bootstrap, Peering, Plan, Ref, Site, SiteId
from replgen.plan.refs import refs_in

StackKind = Literal["bootstrap", "foundation", "site", "peering", "accept"]


@dataclass(frozen=True)
class Grouping:
    """How a backend groups components into stacks."""

    sites: Literal["site", "place"]  # a stack per site, or per account alias and region
    peering_sides: bool  # the accepter's side in a stack of its own (its own account)
    bootstrap_stacks: bool  # the bootstrap of each account and region is a stack too


PER_SITE = Grouping(sites="site", peering_sides=True, bootstrap_stacks=True)
PER_PLACE = Grouping(sites="place", peering_sides=False, bootstrap_stacks=False)


@dataclass(frozen=True)
class StackSlot:
    """One stack: its name, what it holds, and the account and region it deploys in."""

    name: str
    kind: StackKind
    stem: str  # what its file is named after: "dev", "prod-us-east-1-foundation", ...
    account_id: str
    region: str
    production: bool  # holds a production environment's resources (or its peering)
    sites: tuple[Site, ...] = ()  # the sites it builds (foundation and site stacks)
    peering: Peering | None = None
    bootstrap: Bootstrap | None = None

    @property
    def role(self) -> str:
        """What it is for, in words: "site dev", "peering dev-staging (accepter)", ..."""
        if self.bootstrap is not None:
            return f"bootstrap of {self.account_id} {self.region}"
        if self.peering is not None:
            side = "requester" if self.kind == "peering" else "accepter"
            return f"peering {self.peering.id} ({side})"
        sites = ", ".join(s.id for s in self.sites)
        return f"foundation of site {sites}" if self.kind == "foundation" else f"site {sites}"


@dataclass(frozen=True)
class Layout:
    plan: Plan
    grouping: Grouping
    stacks: tuple[StackSlot, ...]  # bootstrap, foundations, sites, peerings: render order
    site_stack: Mapping[SiteId, str]  # the stack building a site's non-foundation components
    # What each stack reads from other stacks (a stack output each), by stack name.
    reads: Mapping[str, tuple[Ref, ...]]

    def stack_of(self, site: SiteId, component: str) -> str:
        """The stack building component `component` of `site`."""
        if component in self.plan.site(site).foundation:
            return foundation_name(self.plan, self.plan.site(site))
        return self.site_stack[site]

    def requester_of(self, p: Peering) -> str:
        """The stack requesting peering `p`: where its connection id is read from."""
        return stack_name(self.plan, "peering", p.id)

    def outputs(self, stack: str) -> tuple[Ref, ...]:
        """What `stack` outputs: every value another stack reads from it, and what a pause
        after it shows the people deploying."""
        wanted = {r for refs in self.reads.values() for r in refs}
        wanted |= {r for pause in self.plan.pauses for r in pause.show}
        mine = (r for r in wanted if self.stack_of(r.site, r.component) == stack)
        return tuple(sorted(mine, key=lambda r: (r.site, r.component, r.attr)))

    def depends(self, stack: str) -> list[str]:
        """The stacks `stack` reads from: each deploys before it."""
        slot = next(s for s in self.stacks if s.name == stack)
        producers = {self.stack_of(r.site, r.component) for r in self.reads[stack]}
        if slot.kind == "accept":
            assert slot.peering is not None
            producers.add(self.requester_of(slot.peering))  # the connection it accepts
        functions = slot.kind == "site" and any(s.functions for s in slot.sites)
        if self.grouping.bootstrap_stacks and functions:
            # Function code is read from the bucket the bootstrap stack of the place holds.
            producers.add(bootstrap_name(self.plan, self.plan.bootstrap_for(slot.sites[0])))
        return sorted(producers)

    def deploy_order(self) -> list[str]:
        return deploy_order(
            [s.name for s in self.stacks], {s.name: self.depends(s.name) for s in self.stacks}
        )


def stack_name(plan: Plan, *parts: str) -> str:
    return "-".join((plan.name, plan.suffix, *parts))


def bootstrap_name(plan: Plan, boot: Bootstrap) -> str:
    return stack_name(plan, "bootstrap", boot.slug)


def foundation_name(plan: Plan, site: Site) -> str:
    return stack_name(plan, site.slug, "foundation")


def lay_out(plan: Plan, grouping: Grouping) -> Layout:
    site_stack = {s.id: _site_stack_name(plan, grouping, s) for s in plan.sites}
    stacks: list[StackSlot] = []
    if grouping.bootstrap_stacks:
        stacks += [_bootstrap(plan, b) for b in plan.bootstrap]
    stacks += [_foundation(plan, s) for s in plan.sites if s.foundation]
    stacks += _site_stacks(plan, site_stack)
    for p in plan.peerings:
        stacks += _peering(plan, grouping, p)
    layout = Layout(plan, grouping, tuple(stacks), site_stack, {})
    return replace(layout, reads=_reads(layout))


def _reads(layout: Layout) -> dict[str, tuple[Ref, ...]]:
    """Each stack's reads: the Refs in what it builds to components other stacks build."""
    reads: dict[str, set[Ref]] = {s.name: set() for s in layout.stacks}
    for site in layout.plan.sites:
        for key, part in components.listed(site):
            reads[layout.stack_of(site.id, key)].update(refs_in(part))
        # What the people deploying read: the site stack outputs it.
        reads[layout.site_stack[site.id]].update(refs_in(site.outputs))
    for slot in layout.stacks:
        if slot.peering is not None:
            reads[slot.name].update(_peering_refs(layout.grouping, slot))
    return {
        stack: tuple(
            sorted(
                (r for r in refs if layout.stack_of(r.site, r.component) != stack),
                key=lambda r: (r.site, r.component, r.attr),
            )
        )
        for stack, refs in reads.items()
    }


def _peering_refs(grouping: Grouping, slot: StackSlot) -> tuple[Ref, ...]:
    """What each side of a peering reads: the requester names both VPCs and routes through
    its own table; the accepter routes through its table (in the requester's stack where a
    stack holds both sides)."""
    p = slot.peering
    assert p is not None
    if slot.kind == "accept":
        return (p.accepter_route_table,)
    requester = (p.requester_vpc, p.accepter_vpc, p.requester_route_table)
    return requester if grouping.peering_sides else (*requester, p.accepter_route_table)


def _site_stack_name(plan: Plan, grouping: Grouping, site: Site) -> str:
    if grouping.sites == "site":
        return stack_name(plan, site.slug)
    return stack_name(plan, site.account_alias, site.region)


def _bootstrap(plan: Plan, boot: Bootstrap) -> StackSlot:
    return StackSlot(
        bootstrap_name(plan, boot),
        "bootstrap",
        f"bootstrap-{boot.slug}",
        boot.account_id,
        boot.region,
        False,
        bootstrap=boot,
    )


def _foundation(plan: Plan, site: Site) -> StackSlot:
    return StackSlot(
        foundation_name(plan, site),
        "foundation",
        f"{site.slug}-foundation",
        site.account_id,
        site.region,
        site.production,
        sites=(site,),
    )


def _site_stacks(plan: Plan, site_stack: Mapping[SiteId, str]) -> list[StackSlot]:
    """A stack per distinct name, holding its sites in the spec's order."""
    members: dict[str, list[Site]] = {}
    for site in plan.sites:
        members.setdefault(site_stack[site.id], []).append(site)
    return [
        StackSlot(
            name,
            "site",
            sites[0].slug if len(sites) == 1 else name,
            sites[0].account_id,
            sites[0].region,
            any(s.production for s in sites),
            sites=tuple(sites),
        )
        for name, sites in members.items()
    ]


def _peering(plan: Plan, grouping: Grouping, p: Peering) -> list[StackSlot]:
    requester, accepter = plan.site(p.requester), plan.site(p.accepter)
    production = requester.production or accepter.production
    request = StackSlot(
        stack_name(plan, "peering", p.id),
        "peering",
        f"peering-{p.id}",
        requester.account_id,
        requester.region,
        production,
        sites=(requester,),
        peering=p,
    )
    if not grouping.peering_sides:
        return [request]
    accept = StackSlot(
        stack_name(plan, "peering", p.id, "accept"),
        "accept",
        f"peering-{p.id}-accept",
        accepter.account_id,
        accepter.region,
        production,
        sites=(accepter,),
        peering=p,
    )
    return [request, accept]


def check_reads(layout: Layout, stack: str, read: Iterable[Ref]) -> None:
    """A backend read only what the layout ordered its stack after: anything else would
    deploy before the stack it reads from (a bug in the plan's references, never the spec)."""
    unknown = set(read) - set(layout.reads[stack])
    if unknown:
        refs = ", ".join(f"{r.site} {r.component}.{r.attr}" for r in sorted(unknown, key=str))
        raise RuntimeError(f"stack {stack} reads {refs}, which the layout does not know of")


def deploy_order(names: Iterable[str], depends: Mapping[str, Iterable[str]]) -> list[str]:
    """Stacks in waves: each wave holds every stack whose dependencies earlier waves
    deploy, in the layout's order, so the order is stable and siblings deploy together."""
    pending = list(names)
    needs = {n: set(depends.get(n, ())) for n in pending}
    done: list[str] = []
    while pending:
        ready = [n for n in pending if needs[n] <= set(done)]
        if not ready:
            raise RuntimeError(f"stack dependency cycle among {sorted(pending)}")
        done += ready
        pending = [n for n in pending if n not in ready]
    return done
