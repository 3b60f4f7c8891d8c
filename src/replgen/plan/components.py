"""Component keys, the attributes each kind of component declares, and the check that every
`Ref` in a plan names a component its site has and an attribute that component declares.

A key is `<kind>` for a site's single component ("vpc", "cluster", "key") or
`<kind>:<name>` for one of several ("bucket:migrations", "role:accept:dev-staging"). This
module is the one place that reads a key apart: backends ask it, never split keys.
"""

from __future__ import annotations

from collections.abc import Iterator

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
    Key,
    LoadBalancer,
    Network,
    Parameter,
    Permission,
    Plan,
    Queue,
    Record,
    Ref,
    Role,
    Schedule,
    Site,
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
