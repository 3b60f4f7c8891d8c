"""The layout: one answer, for every backend, to which stack builds what, where it deploys
and in what order; the backends differ only in how they group."""

from __future__ import annotations

from pathlib import Path

import pytest

from replgen.plan.build import build
from replgen.plan.layout import (
    PER_PLACE,
    PER_SITE,
    Grouping,
    check_reads,
    deploy_order,
    lay_out,
)
from replgen.plan.model import Code, Plan, Ref
from replgen.spec.load import load

ROOT = Path(__file__).parents[2]
CODE = {
    name: Code(name, f"{name}-0123456789ab.zip", "0" * 64, "AAAA")
    for name in ("replsync", "txnproc")
}


@pytest.fixture(scope="module")
def four() -> Plan:
    return build(load(ROOT / "tests" / "specs" / "valid" / "four-envs.yaml").spec, CODE)


@pytest.fixture(scope="module")
def dr() -> Plan:
    return build(load(ROOT / "specs" / "dr.yaml").spec, CODE)


def test_per_site_is_a_stack_per_site_and_per_peering_side(four: Plan) -> None:
    stacks = lay_out(four, PER_SITE).stacks
    prefix = f"{four.name}-{four.suffix}-"
    names = [s.name.removeprefix(prefix) for s in stacks]
    boots = [f"bootstrap-{b.slug}" for b in four.bootstrap]
    sites = [s.slug for s in four.sites]
    peerings = [n for p in four.peerings for n in (f"peering-{p.id}", f"peering-{p.id}-accept")]
    assert names == [*boots, *sites, *peerings]
    assert [s.role for s in stacks if s.kind == "site"] == [f"site {s.id}" for s in four.sites]
    first = four.peerings[0]
    request, accept = (s for s in stacks if s.peering == first)
    assert (request.role, accept.role) == (
        f"peering {first.id} (requester)",
        f"peering {first.id} (accepter)",
    )
    accepter = four.site(first.accepter)
    assert (accept.account_id, accept.region) == (accepter.account_id, accepter.region)


def test_per_place_groups_sites_by_account_alias_and_region(four: Plan) -> None:
    layout = lay_out(four, PER_PLACE)
    site_stacks = {s.name: [site.id for site in s.sites] for s in layout.stacks if s.kind == "site"}
    prefix = f"{four.name}-{four.suffix}"
    assert site_stacks == {
        f"{prefix}-nonprod-eu-west-1": ["dev", "qa"],
        f"{prefix}-nonprod-eu-central-1": ["staging"],
        f"{prefix}-prod-eu-west-1": ["prod"],
    }
    assert not [s for s in layout.stacks if s.kind in ("bootstrap", "accept")]
    assert layout.stack_of("qa", "cluster") == f"{prefix}-nonprod-eu-west-1"
    production = {s.name: s.production for s in layout.stacks if s.kind == "site"}
    assert production == {n: n.endswith("-prod-eu-west-1") for n in site_stacks}


def test_foundation_components_live_in_the_foundation_stack(dr: Plan) -> None:
    primary = dr.sites[0]
    assert primary.foundation
    for grouping in (PER_SITE, PER_PLACE):
        layout = lay_out(dr, grouping)
        foundation = f"{dr.name}-{dr.suffix}-{primary.slug}-foundation"
        assert layout.stack_of(primary.id, primary.foundation[0]) == foundation
        assert layout.stack_of(primary.id, "cluster") != foundation
        (slot,) = (s for s in layout.stacks if s.name == foundation)
        assert (slot.kind, slot.role) == ("foundation", f"foundation of site {primary.id}")


def test_bootstrap_stack_role_names_its_account_and_region(dr: Plan) -> None:
    boots = [s for s in lay_out(dr, PER_SITE).stacks if s.kind == "bootstrap"]
    assert [s.role for s in boots] == [
        f"bootstrap of {b.account_id} {b.region}" for b in dr.bootstrap
    ]


def test_deploy_order_is_in_waves_and_refuses_a_cycle() -> None:
    names = ["peering", "site-a", "foundation", "site-b"]
    depends = {"peering": ["site-a", "site-b"], "site-a": ["foundation"]}
    assert deploy_order(names, depends) == ["foundation", "site-b", "site-a", "peering"]
    with pytest.raises(RuntimeError, match=r"stack dependency cycle among \['a', 'b'\]"):
        deploy_order(["a", "b", "c"], {"a": ["b"], "b": ["a"]})


def test_reads_come_from_the_plans_references_alone(dr: Plan) -> None:
    layout = lay_out(dr, PER_SITE)
    primary, secondary = dr.sites
    prefix = f"{dr.name}-{dr.suffix}"
    main, foundation = f"{prefix}-{primary.slug}", f"{prefix}-{primary.slug}-foundation"
    reads = {(r.site, r.component, r.attr) for r in layout.reads[main]}
    # Everything the site encrypts reads its key, which its foundation builds.
    assert (primary.id, "key", "arn") in reads
    assert (primary.id, "zone", "id") in reads  # its records and certificate validation
    assert not {r for r in reads if layout.stack_of(r[0], r[1]) == main}  # nothing local
    secondary_stack = f"{prefix}-{secondary.slug}"
    assert main in layout.depends(secondary_stack)  # joins the global cluster the primary made
    boot = f"{prefix}-bootstrap-{primary.account_id}-{primary.region}"
    assert layout.depends(main) == sorted(
        {foundation, f"{prefix}-{secondary.slug}-foundation", boot}
    )
    order = layout.deploy_order()
    assert all(
        order.index(d) < order.index(s.name) for s in layout.stacks for d in layout.depends(s.name)
    )


def test_an_accepter_reads_its_route_table_after_the_connection_is_requested(four: Plan) -> None:
    layout = lay_out(four, PER_SITE)
    accept = next(s for s in layout.stacks if s.kind == "accept")
    assert accept.peering is not None
    assert layout.reads[accept.name] == (accept.peering.accepter_route_table,)
    assert layout.requester_of(accept.peering) in layout.depends(accept.name)
    single = lay_out(four, PER_PLACE)
    both = next(s for s in single.stacks if s.peering == accept.peering)
    assert accept.peering.accepter_route_table in single.reads[both.name]


def test_a_read_the_layout_does_not_know_is_an_internal_error(dr: Plan) -> None:
    layout = lay_out(dr, PER_SITE)
    stack = layout.stacks[0].name
    check_reads(layout, stack, layout.reads[stack])
    with pytest.raises(RuntimeError, match=r"reads prod/us-east-1 zone\.id, which the layout"):
        check_reads(layout, stack, [Ref("prod/us-east-1", "zone", "id")])


@pytest.mark.parametrize("grouping", [PER_SITE, PER_PLACE])
def test_a_stack_outputs_only_what_another_stack_reads(four: Plan, grouping: Grouping) -> None:
    layout = lay_out(four, grouping)
    outputs = {slot.name: layout.outputs(slot.name) for slot in layout.stacks}
    assert any(outputs.values())
    for stack, refs in outputs.items():
        for ref in refs:  # four-envs has no pause to show values of
            readers = [s for s, read in layout.reads.items() if ref in read]
            assert readers and stack not in readers
