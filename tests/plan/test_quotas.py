"""The quota model, enforced at plan time: designs that fit, one-line refusals where none does."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fleet import fleet, spoke, write

from replgen import compiler
from replgen.cli import main
from replgen.plan import quotas
from replgen.plan.build import build
from replgen.plan.model import Plan, SgRule
from replgen.plan.network import (
    PEER_BASE,
    PEER_BLOCK,
    SUMMARY_BASE,
    Flow,
    peer_slots,
    preferred_slot,
    security_groups,
)
from replgen.spec.load import validate
from replgen.spec.source import parse

ARTIFACTS = compiler.artifacts()


def plan_of(spec: dict[str, Any]) -> Plan:
    data, source = parse(json.dumps(spec), "fleet.yaml")
    return build(validate(data, source).spec, ARTIFACTS)


def invoke(tmp_path: Path, spec: dict[str, Any]) -> Any:
    path = write(spec, tmp_path / "spec.yaml")
    return CliRunner().invoke(main, ["validate", str(path)])


def per_direction(plan: Plan, site: str) -> int:
    entries = plan.site(site).network.acl_entries
    return max(sum(1 for e in entries if e.egress == egress) for egress in (False, True))


def test_130_environments_on_one_hub_exceed_the_hard_peering_limit(tmp_path: Path) -> None:
    result = invoke(tmp_path, fleet(129))
    assert result.exit_code == 2
    (line,) = result.output.splitlines()
    assert line.endswith("peering: hub would have 129 peerings; a VPC has at most 125")
    assert line.startswith(f"{tmp_path / 'spec.yaml'}:")
    assert "Traceback" not in result.output


def test_a_route_table_past_50_routes_needs_the_raised_quota_declared(tmp_path: Path) -> None:
    result = invoke(tmp_path, fleet(59))
    assert result.exit_code == 2
    assert "hub's private route table would have 61 routes; a route table has at most 50" in (
        result.output
    )
    assert "declare quotas.routes_per_route_table" in result.output
    raised = invoke(tmp_path, fleet(59, quotas={"routes_per_route_table": 100}))
    assert raised.exit_code == 0, raised.output


def test_the_hub_acl_is_summarised_when_per_peer_entries_exceed_20() -> None:
    plan = plan_of(fleet(9))
    hub = plan.site("hub").network.acl_entries
    assert per_direction(plan, "hub") <= quotas.NACL_RULES.value
    peers = [e for e in hub if e.number not in (100, 32700, 32701)]
    assert {e.cidr for e in peers} == {"10.0.0.0/8"}
    assert all(e.number >= SUMMARY_BASE for e in peers)
    # The spokes keep exact entries: the hub's subnets only, and a deny of its VPC.
    spoke_entries = plan.site(spoke(1)).network.acl_entries
    assert {e.cidr for e in spoke_entries if e.allow} == {
        "10.0.32.0/20",  # e001's own VPC (rule 100)
        "10.0.0.0/21",
        "10.0.8.0/21",
    }


def test_a_declared_raised_acl_quota_keeps_the_entries_exact() -> None:
    plan = plan_of(fleet(9, quotas={"nacl_rules_per_direction": 40}))
    assert 20 < per_direction(plan, "hub") <= 40
    denies = {e.cidr for e in plan.site("hub").network.acl_entries if not e.allow}
    assert denies == {plan.site(spoke(i)).network.cidr for i in range(1, 10)}


def test_an_acl_no_summary_fits_is_refused(tmp_path: Path) -> None:
    spec = fleet(10)
    del spec["sync"]
    for i, name in enumerate(spec["environments"]):  # each peer in a public /8 of its own
        spec["environments"][name]["cidr"] = f"{11 + i}.0.0.0/20"
    result = invoke(tmp_path, spec)
    assert result.exit_code == 2
    assert "environments.hub.cidr: hub's network ACL would have 31 rules per direction; " in (
        result.output
    )
    assert "declare quotas.nacl_rules_per_direction" in result.output


def test_function_rules_past_60_move_to_groups_of_their_own() -> None:
    plan = plan_of(fleet(9, azs=6))
    network = plan.site("hub").network
    assert network.function_groups == ("functions", "functions-db-1")
    groups = {g.role: g for g in network.security_groups}
    assert [r.from_port for r in groups["functions"].egress] == [443, 443]
    assert len(groups["functions-db-1"].egress) == 60
    assert all(len(g.egress) <= 60 and len(g.ingress) <= 60 for g in groups.values())


def test_the_sync_configuration_must_fit_the_function_environment(tmp_path: Path) -> None:
    (tmp_path / "ten").mkdir()
    assert invoke(tmp_path / "ten", fleet(10, synced=10)).exit_code == 0
    result = invoke(tmp_path, fleet(11, synced=11))
    assert result.exit_code == 2
    # The bootstrap's configuration is the larger: it names each master secret.
    assert re.search(
        r"sync: the function fleet-f1-hub-replsync-boot would have 4\d\d\d bytes of environment",
        result.output,
    )


def test_peers_keep_their_rule_numbers_as_others_come_and_go() -> None:
    names = [f"env{i}" for i in range(40)]
    alone = peer_slots(names[:20])
    grown = peer_slots(names)
    assert all(alone[n] == grown[n] for n in names[:20] if alone[n] == preferred_slot(n))
    assert all(PEER_BASE + PEER_BLOCK * s + PEER_BLOCK <= SUMMARY_BASE for s in grown.values())


def test_a_hash_collision_moves_only_the_later_peer() -> None:
    seen: dict[int, str] = {}
    pair = None
    for i in range(10_000):
        name = f"p{i}"
        slot = preferred_slot(name)
        if slot in seen:
            pair = (seen[slot], name)
            break
        seen[slot] = name
    assert pair is not None
    first, second = sorted(pair)
    slots = peer_slots([second, first])
    assert slots[first] == preferred_slot(first)
    assert slots[second] == preferred_slot(first) + 1


@pytest.mark.parametrize("value", [19, 41])
def test_a_raised_quota_must_be_one_aws_grants(tmp_path: Path, value: int) -> None:
    result = invoke(tmp_path, fleet(2, quotas={"nacl_rules_per_direction": value}))
    assert result.exit_code == 2
    assert "quotas.nacl_rules_per_direction" in result.output


def _function_rules(peers: range) -> dict[str, set[SgRule]]:
    """The hub's database groups when its functions reach these peers (two subnets each)."""
    flows = [
        Flow("hub", ("10.0.0.0/24",), f"peer{i}", (f"10.{i}.1.0/24", f"10.{i}.2.0/24"), 5432)
        for i in peers
    ]
    groups = security_groups("hub", "f1-hub", "10.0.0.0/16", 5432, flows, True)
    return {g.role: set(g.egress) for g in groups if g.role.startswith("functions-db")}


@pytest.mark.parametrize("new", [0, 41])  # first in the spec's order, or last
def test_a_new_peer_adds_its_rules_to_one_group_and_moves_none(new: int) -> None:
    before = _function_rules(range(1, 41))
    after = _function_rules(range(new, 41) if new == 0 else range(1, 42))
    assert len(before) == len(after) == 2  # 80 and 82 rules: two groups of at most 60
    added = {r for rules in after.values() for r in rules if r.description.endswith(f"peer{new}")}
    assert len(added) == 2
    for group, rules in before.items():
        assert rules <= after[group] and after[group] - rules <= added


def test_groups_fill_to_the_quota_and_one_added_moves_a_share() -> None:
    full = _function_rules(range(1, 121))  # 240 rules: four groups of exactly 60
    assert sorted(len(rules) for rules in full.values()) == [60, 60, 60, 60]
    before, after = _function_rules(range(1, 86)), _function_rules(range(1, 96))
    assert (len(before), len(after)) == (3, 4)  # 170 rules, then 190
    moved = sum(len(rules - after[group]) for group, rules in before.items())
    assert moved < 170 // 2  # the new group's share and what it displaced, not a reshuffle


def test_peers_too_large_to_share_get_a_group_more() -> None:
    """Three peers of 40 rules: 120 would fit two groups of 60 by count, not by peer."""
    flows = [
        Flow("hub", ("10.0.0.0/24",), f"p{i}", tuple(f"10.{i}.{s}.0/24" for s in range(40)), 5432)
        for i in range(3)
    ]
    groups = security_groups("hub", "f1-hub", "10.0.0.0/16", 5432, flows, True)
    sizes = [len(g.egress) for g in groups if g.role.startswith("functions-db")]
    assert sizes == [40, 40, 40]
