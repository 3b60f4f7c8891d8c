"""Property: for random valid topologies within the quotas, adding one environment never
changes an existing VPC, subnet, network ACL entry, cluster, key, bucket or peering."""

from __future__ import annotations

import json
from typing import Any

from fleet import POOL
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from replgen import compiler
from replgen.plan.build import build
from replgen.plan.model import Plan, Site
from replgen.plan.network import SUMMARY_BASE, peer_slots, preferred_slot
from replgen.spec.load import validate
from replgen.spec.source import parse

ARTIFACTS = compiler.artifacts()
NAMES = [f"{a}{b}" for a in "abcdefghij" for b in ("", "x", "qa", "ops")]
REGIONS = ["us-east-1", "eu-west-1"]


@st.composite
def topologies(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """(spec, the same spec with one more environment)."""
    count = draw(st.integers(2, 6))
    names = draw(
        st.lists(st.sampled_from(NAMES), min_size=count + 1, max_size=count + 1, unique=True)
    )
    cidrs = draw(
        st.lists(st.integers(0, len(POOL) - 1), min_size=count + 1, max_size=count + 1, unique=True)
    )
    accounts = draw(st.lists(st.integers(0, 2), min_size=count + 1, max_size=count + 1))
    regions = draw(st.lists(st.sampled_from(REGIONS), min_size=count + 1, max_size=count + 1))
    envs = {
        n: {"account": f"acct{accounts[i]}", "cidr": str(POOL[cidrs[i]]), "region": regions[i]}
        for i, n in enumerate(names)
    }
    # A tree over the existing environments, then the new one peered with one or two of them.
    peering = [[names[draw(st.integers(0, i - 1))], names[i]] for i in range(1, count)]
    new = names[count]
    for peer in draw(st.lists(st.sampled_from(names[:count]), min_size=1, max_size=2, unique=True)):
        peering.append(draw(st.permutations([peer, new])))
    hub = names[0]
    hub_peers = [b if a == hub else a for a, b in peering[: count - 1] if hub in (a, b)]
    base: dict[str, Any] = {
        "replgen": 1,
        "name": "prop",
        "suffix": "p1",
        "accounts": {f"acct{i}": f"{200000000000 + i}" for i in range(3)},
        "defaults": {
            "database": {
                "engine": "aurora-postgresql",
                "engine_version": "15.10",
                "instance_class": "db.r6g.large",
            }
        },
    }
    before = {
        **base,
        "environments": {n: envs[n] for n in names[:count]},
        "peering": peering[: count - 1],
    }
    after = {**base, "environments": envs, "peering": peering}
    if hub_peers and draw(st.booleans()):
        promote = [hub, *hub_peers]
        before["sync"] = {"runs_in": hub, "schema": {"promote": promote}}
        joins = [hub, new] in peering or [new, hub] in peering
        grown = [*promote, new] if joins and draw(st.booleans()) else promote
        after["sync"] = {"runs_in": hub, "schema": {"promote": grown}}
    return before, after


def plan_of(spec: dict[str, Any]) -> Plan:
    data, source = parse(json.dumps(spec), "spec.yaml")
    return build(validate(data, source).spec, ARTIFACTS)


def exact(plan: Plan, site: Site) -> bool:
    """Per-peer entries, each peer in the slot its name asks for (no summary, no collision)."""
    peers = [
        p.accepter if p.requester == site.id else p.requester
        for p in plan.peerings
        if site.id in (p.requester, p.accepter)
    ]
    slots = peer_slots(peers)
    return all(e.number < SUMMARY_BASE for e in site.network.acl_entries) and all(
        slots[p] == preferred_slot(p) for p in peers
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(topologies())
def test_adding_an_environment_changes_nothing_that_exists(
    pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    before, after = (plan_of(spec) for spec in pair)
    for old in before.sites:
        new = after.site(old.id)
        # Within the quotas: a site whose ACL is summarised, or whose peers' names collide
        # on one block of rule numbers, is the documented exception.
        assume(exact(before, old) and exact(after, new))
        assert new.network.cidr == old.network.cidr
        assert new.network.vpc_name == old.network.vpc_name
        assert new.network.private_subnets == old.network.private_subnets
        entries = {(e.egress, e.number): e for e in new.network.acl_entries}
        assert all(entries.get((e.egress, e.number)) == e for e in old.network.acl_entries)
        assert new.database == old.database
        assert new.key == old.key
        assert new.buckets == old.buckets
    peerings = {p.id: p for p in after.peerings}
    assert all(peerings[p.id] == p for p in before.peerings)
