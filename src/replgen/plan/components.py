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


def placed(site: Site) -> Iterator[tuple[str, object]]:
    """Every component of a site, with the key that places it in a stack (plan/layout.py):
    its own key, or its kind where a site has one and nothing reads it by key. A component
    a backend renders nothing for may count a read that backend never makes: every site
    stack reads the site key anyway, the only Ref such a component holds."""
    yield from (("vpc", site.network), ("key", site.key), ("cluster", site.database))
    yield from (("parameter", p) for p in site.parameters)
    yield from ((b.key, b) for b in site.buckets)
    yield from ((r.key, r) for r in site.roles)
    yield ("topic", site.topic)
    yield from (("alarm", a) for a in site.alarms)
    yield from ((q.key, q) for q in site.queues)
    yield from ((f.key, f) for f in site.functions)
    yield from ((m.key, m) for m in site.state_machines)
    yield from (("schedule", s) for s in site.schedules)
    yield from ((p.key, p) for p in site.permissions)
    yield from ((i.key, i) for i in site.invocations)
    yield from ((e.key, e) for e in site.event_sources)
    yield from ((e.key, e) for e in site.emptiers)
    yield from (("output", value) for _, value in site.outputs)
    singles = {
        "load_balancer": site.load_balancer,
        "zone": site.zone,
        "record": site.record,
        "table": site.table,
        "backup": site.backup,
        "invoker": site.invoker,
        "parameter-writer": site.parameter_writer,
    }
    yield from ((key, part) for key, part in singles.items() if part is not None)


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
