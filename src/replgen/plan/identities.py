"""The plan's own identities are unique: a duplicate is a bug in the plan, never the spec's.

Backends derive logical ids and Terraform addresses from these (an ACL entry from its
direction and number, a security group from its role, a component from its key), so two
equal ones here would be two resources with one id in a stack.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

from replgen.plan.model import Plan, Site


class DuplicateIdentity(Exception):
    """Two things in one stack with one identity: an internal error (exit 1)."""


def _keys(site: Site) -> Iterator[tuple[str, object]]:
    net = site.network
    yield from (("acl entry", (e.egress, e.number)) for e in net.acl_entries)
    yield from (("security group", g.role) for g in net.security_groups)
    yield from (("security group name", g.name) for g in net.security_groups)
    yield from (("subnet", s.name) for s in net.private_subnets + net.public_subnets)
    components: Iterable[str] = (
        *(r.key for r in site.roles),
        *(b.key for b in site.buckets),
        *(f.key for f in site.functions),
        *(q.key for q in site.queues),
        *(m.key for m in site.state_machines),
        *(p.key for p in site.permissions),
        *(e.key for e in site.event_sources),
    )
    yield from (("component", k) for k in components)
    yield from (("alarm", a.name) for a in site.alarms)
    yield from (("output", name) for name, _ in site.outputs)


def assert_unique(plan: Plan) -> Plan:
    """The plan, once every identity in each site, and every site and peering, is unique."""
    found: list[tuple[str, object]] = [("site", s.id) for s in plan.sites]
    found += [("site slug", s.slug) for s in plan.sites]
    found += [("peering", p.id) for p in plan.peerings]
    found += [(f"{kind} in {s.id}", key) for s in plan.sites for kind, key in _keys(s)]
    twice = sorted((str(k), str(v)) for (k, v), n in Counter(found).items() if n > 1)
    if twice:
        listed = ", ".join(f"{kind} {key}" for kind, key in twice)
        raise DuplicateIdentity(f"the plan names these twice: {listed}")
    return plan
