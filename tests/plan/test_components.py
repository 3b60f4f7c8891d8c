"""Every Ref in a plan names a component its site has and an attribute that component
declares: checked when the plan is built, so a dangling reference is an internal error at
compile time, never a KeyError inside a backend's synthesis."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from replgen.plan.build import build
from replgen.plan.components import ATTRS, check_refs, kind, name, present, slug
from replgen.plan.model import Code, Plan, Ref
from replgen.plan.refs import refs_in
from replgen.spec.load import load

ROOT = Path(__file__).parents[2]
CODE = {n: Code(n, f"{n}-0123456789ab.zip", "0" * 64, "AAAA") for n in ("replsync", "txnproc")}


@pytest.fixture(scope="module")
def dr() -> Plan:
    return build(load(ROOT / "specs" / "dr.yaml").spec, CODE)


def test_keys_read_apart_in_one_place() -> None:
    assert (kind("vpc"), name("vpc")) == ("vpc", "")
    assert (kind("role:accept:a-b"), name("role:accept:a-b")) == ("role", "accept:a-b")
    assert slug("bucket:access-logs") == "bucket-access-logs"


def test_the_example_refs_name_declared_attributes_of_present_components(dr: Plan) -> None:
    refs = list(refs_in(dr))
    assert len(refs) > 20
    kinds = {kind(r.component) for r in refs}
    assert kinds >= {"vpc", "key", "cluster", "zone", "healthcheck", "global_cluster"}
    assert kinds <= set(ATTRS)
    primary = dr.sites[0]
    assert {"global_cluster", "zone", "load_balancer"} <= set(present(primary))


def _with_export(plan: Plan, ref: Ref) -> Plan:
    site = replace(plan.sites[0], outputs=(*plan.sites[0].outputs, ("dangling", ref)))
    return replace(plan, sites=(site, *plan.sites[1:]))


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        (Ref("prod/us-east-2", "zone", "id"), "site 'prod/us-east-2' has no component 'zone'"),
        (Ref("nowhere", "vpc", "id"), "site 'nowhere' has no component 'vpc'"),
        (Ref("prod/us-east-1", "bucket:nope", "arn"), "has no component 'bucket:nope'"),
        (Ref("prod/us-east-1", "cluster", "id"), "cluster declares only arn, endpoint, resource"),
    ],
)
def test_a_ref_to_nothing_is_an_internal_error(dr: Plan, ref: Ref, message: str) -> None:
    check_refs(dr)
    with pytest.raises(ValueError, match=message):
        check_refs(_with_export(dr, ref))
