"""What each plan component must be rendered as, in `rendered.py`'s vocabulary, computed
from the plan alone: the structural parity test holds both backends to it.

Each function lists the key properties of a component's resources: (category, values).
Every category listed here is compared as a multiset with what a backend rendered for the
component alone, so a missing, extra, or different resource of that category fails.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from rendered import Found

from replgen.plan import model
from replgen.plan import waf as plan_waf
from replgen.plan.model import Peering, Site

Expect = Callable[[Any, Site], list[Found]]

# What both backends write though the plan holds no value for it yet: stated once here, so a
# backend writing otherwise fails (each is a candidate for a field of its component).
ENCRYPTED = True  # clusters; queues and topics with the site's key
FLOW_LOG_TRAFFIC = "ALL"
EIP_DOMAIN = "vpc"
SCHEME, LB_TYPE, TARGET_TYPE = "internet-facing", "application", "lambda"
VALIDATION = "DNS"  # certificates
WAF_SCOPE = "REGIONAL"
RECORD_TYPE = "A"  # alias records to the load balancer
HEALTH_RULE_PRIORITY = 1
REPORT_FAILURES = ("ReportBatchItemFailures",)
DELETE_MARKERS = "Enabled"  # replicated


def _acl(entry: model.AclEntry) -> Found:
    # "all" protocols carry no port range in either format.
    ports = (None, None) if entry.protocol == "all" else (entry.from_port, entry.to_port)
    action = "allow" if entry.allow else "deny"
    return ("acl_rule", (entry.number, entry.egress, entry.protocol, *ports, entry.cidr, action))


def _group(group: model.SecurityGroup) -> list[Found]:
    found: list[Found] = [("security_group", (group.name,))]
    for direction, rules in (("ingress", group.ingress), ("egress", group.egress)):
        found += [
            ("security_rule", (direction, r.protocol, r.from_port, r.to_port, r.cidr))
            for r in rules
        ]
    return found


def network(n: model.Network, site: Site) -> list[Found]:
    found: list[Found] = [("vpc", (n.cidr,)), ("flow_log", (FLOW_LOG_TRAFFIC,))]
    found += [("network_acl", ()), ("route_table", ())]  # the private subnets'

    found += [("subnet", (s.cidr,)) for s in n.private_subnets + n.public_subnets]
    found += [_acl(e) for e in n.acl_entries]
    found += [f for g in n.security_groups for f in _group(g)]
    found += [("endpoint", (e,)) for e in n.gateway_endpoints + n.interface_endpoints]
    found.append(("log_group", (n.flow_logs.name, n.flow_logs.retention_days)))
    if n.public_subnets:
        found += [("internet_gateway", ()), ("route_table", ()), ("route", ("0.0.0.0/0",))]
    if n.internet_egress:
        found += [("nat_gateway", ()), ("elastic_ip", (EIP_DOMAIN,)), ("route", ("0.0.0.0/0",))]
    return found


def key(k: model.Key, site: Site) -> list[Found]:
    return [("key", (k.rotation,)), ("key_alias", (k.alias,))]


def database(db: model.Database, site: Site) -> list[Found]:
    found: list[Found] = [
        (
            "cluster",
            (db.cluster_id, db.engine, db.engine_version, db.backup_retention_days, ENCRYPTED),
        ),
        ("db_subnet_group", (db.subnet_group,)),
        ("db_parameter_group", (db.parameter_family,)),
    ]
    instance = (db.instance_class, db.monitoring_interval or None, db.ca_certificate)
    found += [("instance", instance) for _ in db.instances]
    if db.global_role == "primary":
        values = (db.global_cluster_id, db.engine, db.engine_version, ENCRYPTED)
        found.append(("global_cluster", values))
    if db.secret is not None:
        regions = tuple(sorted(region for region, _ in db.secret.replicas))
        found.append(("secret", (db.secret.name, regions)))
        found.append(("secret_rotation", (db.secret.rotation_days,)))
    return found


def bucket(b: model.Bucket, site: Site) -> list[Found]:
    found: list[Found] = [("bucket", (b.name,)), ("bucket_policy", ())]
    found += [
        ("replication_rule", (r.rule_id, r.destination_bucket, DELETE_MARKERS, r.time_minutes))
        for r in b.replication
    ]
    return found


def topic(t: model.Topic, site: Site) -> list[Found]:
    found: list[Found] = [("topic", (t.name, ENCRYPTED))]
    found += [("subscription", ("email", email)) for email in t.emails]
    found += [("subscription", ("lambda", arn)) for _, arn in t.functions]
    return found


def alarm(a: model.Alarm, site: Site) -> list[Found]:
    values = (a.name, a.metric, float(a.threshold), a.unit, a.comparison, a.evaluation_periods)
    return [("alarm", values)]


def function(f: model.Function, site: Site) -> list[Found]:
    return [
        ("function", (f.name, f.runtime, f.timeout, f.memory_mb)),
        ("log_group", (f.log_group.name, f.log_group.retention_days)),
    ]


def state_machine(m: model.StateMachine, site: Site) -> list[Found]:
    return [
        ("state_machine", (m.name,)),
        ("log_group", (m.log_group.name, m.log_group.retention_days)),
    ]


def load_balancer(lb: model.LoadBalancer, site: Site) -> list[Found]:
    found: list[Found] = [
        ("load_balancer", (lb.name, SCHEME, LB_TYPE)),
        ("target_group", (lb.target_group, TARGET_TYPE, lb.health_check_path)),
        ("certificate", (lb.domain, lb.alternative_names, VALIDATION)),
        ("listener", (443, "HTTPS", lb.ssl_policy)),
    ]
    values = tuple(sorted((lb.health_check_path, lb.auth.health_method)))
    health = ("listener_rule", (HEALTH_RULE_PRIORITY, values))
    if lb.auth.mode == "oidc":  # /health open on the main listener
        found.append(health)
    if lb.auth.health_port != 443:  # and on a port of its own
        found += [("listener", (lb.auth.health_port, "HTTPS", lb.ssl_policy)), health]
    store = lb.auth.trust_store
    if store is not None:
        found.append(("trust_store", (store.name, store.bucket, store.key)))
    return found


def web_acl(acl: model.WebAcl, site: Site) -> list[Found]:
    names = tuple(rule["Name"] for rule in plan_waf.rules(acl))
    return [
        ("web_acl", (acl.name, WAF_SCOPE, names)),
        ("web_acl_association", ()),
        ("web_acl_logging", ()),
        ("log_group", (acl.log_group.name, acl.log_group.retention_days)),
    ]


def health_check(c: model.HealthCheck, site: Site) -> list[Found]:
    return [("health_check", (c.fqdn, c.path, c.port, c.protocol, c.interval, c.failure_threshold))]


def record(r: model.Record, site: Site) -> list[Found]:
    return [
        ("record", (r.regional_name, RECORD_TYPE, None, None)),
        ("record", (r.weighted_name, RECORD_TYPE, r.weight, r.set_identifier)),
    ]


def table(t: model.GlobalTable, site: Site) -> list[Found]:
    return [("table", (t.name, t.billing_mode, tuple(sorted(r for r, _ in t.replicas))))]


def backup(b: model.BackupPlan, site: Site) -> list[Found]:
    found: list[Found] = [
        ("backup_vault", (b.vault,)),
        ("backup_plan", (b.plan, ((b.schedule, b.retention_days),))),
        ("backup_selection", (b.selection,)),
    ]
    if b.lock is not None:
        found.append(("vault_lock", (b.lock.min_retention_days, b.lock.max_retention_days)))
    return found


def helper(h: model.Emptier | model.ParameterWriter | model.Invoker, site: Site) -> list[Found]:
    """A function a backend deploys for what its language cannot do: its log group."""
    return [("log_group", (h.log_group.name, h.log_group.retention_days))]


# Every kind of component, and what it renders as.
EXPECT: dict[type, Expect] = {
    model.Role: lambda r, _: [("role", (r.name,))],
    model.Key: key,
    model.Network: network,
    model.Database: database,
    model.Parameter: lambda p, _: [("parameter", (p.name,))],
    model.Bucket: bucket,
    model.Topic: topic,
    model.Alarm: alarm,
    model.Queue: lambda q, _: [("queue", (q.name, ENCRYPTED))],
    model.Function: function,
    model.StateMachine: state_machine,
    model.Schedule: lambda s, _: [("schedule", (s.expression,))],
    model.Permission: lambda p, _: [("permission", (p.principal, p.source_arn))],
    model.Invocation: lambda i, _: [("invocation", (i.payload,))],
    model.LoadBalancer: load_balancer,
    model.EventSource: lambda e, _: [
        ("event_source", (e.batch_size, REPORT_FAILURES, e.max_concurrency))
    ],
    model.WebAcl: web_acl,
    model.Zone: lambda z, _: [("zone", (z.name,))],
    model.HealthCheck: health_check,
    model.Record: record,
    model.GlobalTable: table,
    model.BackupPlan: backup,
    model.Emptier: helper,
    model.ParameterWriter: helper,
    model.Invoker: helper,
}


def expected(component: object, site: Site) -> Counter[Found]:
    return Counter(EXPECT[type(component)](component, site))


def peering(p: Peering) -> Counter[Found]:
    """A peering connection, and a route each way (across both stacks of CloudFormation)."""
    routes = [("route", (p.accepter_cidr,)), ("route", (p.requester_cidr,))]
    return Counter([("peering", ()), *routes])
