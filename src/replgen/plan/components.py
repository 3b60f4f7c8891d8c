"""Component keys, the attributes each kind of component declares, and the check that every
`Ref` in a plan names a component its site has and an attribute that component declares.

A key is `<kind>` for a site's single component ("vpc", "cluster", "key") or
`<kind>:<name>` for one of several ("bucket:migrations", "role:accept:dev-staging"). This
module is the one place that reads a key apart: backends ask it, never split keys.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from replgen.plan.model import (
    Alarm,
    BackupPlan,
    Bucket,
    Database,
    Emptier,
    EventSource,
    Function,
    GlobalTable,
    HealthCheck,
    Invocation,
    Invoker,
    Key,
    LoadBalancer,
    Network,
    Parameter,
    ParameterWriter,
    Permission,
    Plan,
    Queue,
    Record,
    Ref,
    Role,
    Schedule,
    Site,
    SiteId,
    StateMachine,
    Topic,
    WebAcl,
    Zone,
)
from replgen.plan.refs import refs_in

# Every kind of component a site holds. Each backend maps every one of these to the
# renderer that builds it, or says why it needs none (a test holds them to it); peerings
# and bootstraps have stacks of their own (plan/layout.py).
SITE_COMPONENTS: tuple[type, ...] = (
    Role,
    Key,
    Network,
    Database,
    Parameter,
    Bucket,
    Topic,
    Alarm,
    Queue,
    Function,
    StateMachine,
    Schedule,
    Permission,
    Invocation,
    Invoker,
    ParameterWriter,
    LoadBalancer,
    EventSource,
    WebAcl,
    Zone,
    HealthCheck,
    Record,
    GlobalTable,
    BackupPlan,
    Emptier,
)

# What other components and stacks may read of each kind: every backend renders exactly
# these (a test holds each backend's table of references to this one).
ATTRS: dict[str, frozenset[str]] = {
    "vpc": frozenset({"id"}),
    "private_route_table": frozenset({"id"}),
    "key": frozenset({"arn"}),
    "cluster": frozenset({"arn", "endpoint", "resource_id", "secret_arn"}),
    "global_cluster": frozenset({"id"}),
    "zone": frozenset({"id", "name_servers"}),
    "load_balancer": frozenset({"dns_name", "arn"}),
    "healthcheck": frozenset({"id"}),
    "bucket": frozenset({"arn", "name"}),
}


def kind(key: str) -> str:
    """`bucket:migrations` -> `bucket`; `vpc` -> `vpc`."""
    return key.partition(":")[0]


def name(key: str) -> str:
    """`bucket:migrations` -> `migrations`; `role:accept:a-b` -> `accept:a-b`."""
    return key.partition(":")[2]


def slug(key: str) -> str:
    """`bucket:migrations` -> `bucket-migrations`: a key as one word of a name or id."""
    return key.replace(":", "-")


def in_site(plan: Plan, site: Site, name: str) -> str:
    """`dbrepl-prod01-prod-replica-lag` -> `replica-lag`: a name without the site's prefix,
    which says nothing inside the site's own template or module."""
    return name.removeprefix(f"{plan.name}-{plan.suffix}-{site.slug}-")


def parameter_in_site(plan: Plan, site: Site, name: str) -> str:
    """`/dbrepl/prod01/dev/database/connection` -> `database/connection`."""
    return name.removeprefix(f"/{plan.name}/{plan.suffix}/{site.slug}/")


def present(site: Site) -> Iterator[str]:
    """The keys of every component a site has that a Ref may name."""
    yield from ("vpc", "private_route_table", "key", "cluster")
    if site.database.global_role == "primary":
        yield "global_cluster"
    if site.zone is not None:
        yield "zone"
        yield from (check.key for check in site.zone.health_checks)
    if site.load_balancer is not None:
        yield "load_balancer"
    yield from (bucket.key for bucket in site.buckets)


def site_key(site: SiteId) -> Ref:
    """The ARN of a site's key: what every component it encrypts reads."""
    return Ref(site, "key", "arn")


def check_refs(plan: Plan) -> None:
    """ValueError (a bug in the plan, never the spec's) for a Ref to nothing."""
    keys = {site.id: set(present(site)) for site in plan.sites}
    for ref in refs_in(plan):
        if ref.component not in keys.get(ref.site, ()):
            raise ValueError(f"{_show(ref)}: site {ref.site!r} has no component {ref.component!r}")
        if ref.attr not in ATTRS[kind(ref.component)]:
            declared = ", ".join(sorted(ATTRS[kind(ref.component)]))
            raise ValueError(f"{_show(ref)}: {kind(ref.component)} declares only {declared}")


def _show(ref: Ref) -> str:
    return f"Ref({ref.site}, {ref.component}, {ref.attr})"


class Component(Protocol):
    """What every component of a site is: a frozen dataclass whose key names it in its
    site (`bucket:migrations`, `cluster`, `alarm:<name>`); a Ref names it by that key."""

    @property
    def key(self) -> str: ...


def listed(site: Site) -> tuple[tuple[str, Component], ...]:
    """Every component the site builds, by key, in the order of SITE_COMPONENTS (a key
    created beforehand is not built, so not listed)."""
    found: list[Component] = [*site.roles, site.network, site.database, *site.parameters]
    if site.key.external_arn is None:
        found.append(site.key)
    found += [*site.buckets, site.topic, *site.alarms, *site.queues, *site.functions]
    found += [*site.state_machines, *site.schedules, *site.permissions, *site.invocations]
    if site.load_balancer is not None:
        found += [site.load_balancer, site.load_balancer.web_acl]
    found += site.event_sources
    if site.zone is not None:
        found += [site.zone, *site.zone.health_checks]
    found += [c for c in (site.record, site.table, site.backup) if c is not None]
    found += site.emptiers
    found += [c for c in (site.parameter_writer, site.invoker) if c is not None]
    order = {kind: i for i, kind in enumerate(SITE_COMPONENTS)}
    found.sort(key=lambda c: order[type(c)])  # stable: a kind's components keep their order
    return tuple((c.key, c) for c in found)
