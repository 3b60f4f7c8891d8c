"""Disaster recovery: what the sites of the Global Database environment add.

The primary builds the zone, every region's health check, the global table and the
source side of bucket replication; each secondary builds the failover function. Every
member gets the transaction processor behind its own ALB, backups, and DR alarms.

Deployment order is part of the plan: a member's key, buckets and replication role form
its *foundation*, deployed before any other stack, because the primary's replicas (secret,
table, objects) are encrypted with the secondaries' keys and land in their buckets.
"""

from __future__ import annotations

from collections.abc import Mapping

from replgen.plan import components
from replgen.plan.arns import arn, service_principal
from replgen.plan.context import Context
from replgen.plan.dr.alarms import dr_alarms
from replgen.plan.dr.api import api_load_balancer
from replgen.plan.dr.backup import backup_plan, backup_role
from replgen.plan.dr.database import global_settings, sessions_table
from replgen.plan.dr.dns import hosted_zone, site_records, zone_keys
from replgen.plan.dr.failover import failover_function, failover_permissions, failover_role
from replgen.plan.dr.storage import dr_buckets, replication_role
from replgen.plan.dr.topology import (
    Member,
    Topology,
    environment,
    global_cluster,
    queue_name,
    queue_url,
)
from replgen.plan.dr.txnproc import txnproc_event_source, txnproc_function, txnproc_role
from replgen.plan.model import Bucket, Permission, Place, Ref, Schedule, SiteId, Value
from replgen.plan.parts import Parts

__all__ = [
    "Member",
    "Topology",
    "environment",
    "global_cluster",
    "global_settings",
    "member_parts",
    "subscribers",
    "topology",
]

# txnproc's private check of its database and queue, every minute: the public /health only
# reads the verdict it shares, so nothing on the internet can make it touch the database.
DEEP_HEALTH_EVENT = '{"action":"deep_health"}'


def topology(
    ctx: Context,
    places: list[Place],
    clusters: Mapping[SiteId, str],
    topics: Mapping[SiteId, str],
) -> Topology | None:
    """The Global Database environment's members, where the spec has disaster recovery."""
    env = environment(ctx.spec)
    if env is None:
        return None
    return Topology(ctx, [p for p in places if p.environment == env], clusters, topics)


def subscribers(t: Topology | None, site: Place) -> tuple[tuple[str, str], ...]:
    """The functions the primary's alerts topic invokes: every secondary's failover."""
    if t is None or site.environment != t.primary.environment or not site.primary:
        return ()
    return t.failover_functions()


def member_parts(t: Topology, site: Member, own: Parts) -> Parts:
    """What disaster recovery adds to a member, on top of the parts it already has (`own`:
    its buckets and functions, which the alarms watch)."""
    buckets = dr_buckets(t, site)
    txnproc, txn_queues = txnproc_function(t, site)
    functions, queues = [txnproc], list(txn_queues)
    roles = [txnproc_role(t, site, txnproc)]
    permissions = [
        Permission(
            "permission:txnproc-alb",
            txnproc.key,
            service_principal("elasticloadbalancing", site.region),
            arn(
                "elasticloadbalancing",
                site.region,
                site.account_id,
                f"targetgroup/{t.name('alb', site, 'tg')}/*",
            ),
        )
    ]
    deep = Schedule(
        t.name("rule", site, "deep-health"),
        "rate(1 minute)",
        txnproc.key,
        None,
        input=DEEP_HEALTH_EVENT,
    )
    schedules: list[Schedule] = [deep]
    permissions.append(
        Permission(
            "permission:txnproc-deep-health",
            txnproc.key,
            service_principal("events", site.region),
            arn("events", site.region, site.account_id, f"rule/{deep.name}"),
        )
    )
    if not site.primary:
        failover, dlq = failover_function(t, site)
        functions.append(failover)
        queues.append(dlq)
        roles.append(failover_role(t, site, failover))
        schedule = Schedule(t.name("rule", site, "failover"), "rate(1 minute)", failover.key, None)
        schedules.append(schedule)
        permissions += failover_permissions(t, site, failover, schedule)
    all_buckets = own.buckets + buckets
    if any(b.replication for b in all_buckets):
        roles.append(replication_role(t, site, all_buckets))
    if t.ctx.spec.backup:
        roles.append(backup_role(t, site))
    load_balancer = api_load_balancer(t, site)
    return Parts(
        buckets=buckets,
        functions=tuple(functions),
        queues=tuple(queues),
        roles=tuple(roles),
        schedules=tuple(schedules),
        permissions=tuple(permissions),
        event_sources=(txnproc_event_source(t),),
        load_balancer=load_balancer,
        record=site_records(t, site),
        backup=backup_plan(t, site),
        zone=hosted_zone(t) if site.primary else None,
        table=sessions_table(t) if site.primary else None,
        foundation=(
            "key",
            *(b.key for b in all_buckets),
            *(r.key for r in roles if r.key == "role:replication"),
            # The zone comes first so that it can be delegated before the certificates
            # validate in it and the health checks resolve their names.
            *(zone_keys(t) if site.primary else ()),
        ),
        alarms=dr_alarms(t, site, own.functions + tuple(functions), all_buckets),
        outputs=_outputs(t, site, all_buckets),
        log_groups=(*(f.log_group for f in functions), load_balancer.web_acl.log_group),
    )


def _outputs(
    t: Topology, site: Place, buckets: tuple[Bucket, ...]
) -> tuple[tuple[str, Value], ...]:
    outputs: list[tuple[str, Value]] = [
        ("load_balancer_dns_name", Ref(site.id, "load_balancer", "dns_name")),
        ("regional_url", f"https://{t.regional(site)}"),
        ("cluster_endpoint", Ref(site.id, "cluster", "endpoint")),
        ("queue_url", queue_url(site, queue_name(t, site))),
    ]
    outputs += [(f"bucket_{components.name(b.key).replace('-', '_')}", b.name) for b in buckets]
    outputs.append(("sessions_table", t.table))
    if site.primary:
        outputs += [
            ("url", f"https://{t.record}"),
            ("hosted_zone_id", Ref(site.id, "zone", "id")),
            ("zone_name_servers", Ref(site.id, "zone", "name_servers")),
            ("global_database", t.global_cluster),
        ]
    return tuple(outputs)
