"""The plan decides which resource waives which security check, from the facts it holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from replgen.plan.build import build
from replgen.plan.model import Code, LogGroup, Plan, Site
from replgen.plan.waivers import AUDIT_RETENTION_DAYS, Waived, Waiver
from replgen.spec.load import load

ROOT = Path(__file__).parents[2]
CODE = {
    "replsync": Code("replsync", "replsync-0123456789ab.zip", "0" * 64, "AAAA"),
    "txnproc": Code("txnproc", "txnproc-0123456789ab.zip", "1" * 64, "BBBB"),
}
SPECS = [
    ROOT / "specs" / "prod.yaml",
    ROOT / "specs" / "dr.yaml",
    *sorted((ROOT / "tests" / "specs" / "valid").glob("*.yaml")),
]
RETENTION = {Waiver.FUNCTION_LOG_RETENTION, Waiver.FLOW_LOG_RETENTION, Waiver.EMPTIER_LOG_RETENTION}


@pytest.fixture(scope="module", params=SPECS, ids=[s.stem for s in SPECS])
def plan(request: pytest.FixtureRequest) -> Plan:
    return build(load(request.param).spec, CODE)


def _log_groups(site: Site) -> list[LogGroup]:
    groups = [site.network.flow_logs, *(f.log_group for f in site.functions)]
    groups += [m.log_group for m in site.state_machines] + [e.log_group for e in site.emptiers]
    groups += [h.log_group for h in (site.invoker, site.parameter_writer) if h is not None]
    if site.load_balancer is not None:
        groups.append(site.load_balancer.web_acl.log_group)
    return groups


def _kinds(waived: tuple[Waived, ...]) -> list[Waiver]:
    return [w.waiver for w in waived]


def test_a_log_group_waives_retention_exactly_when_it_keeps_less_than_a_year(plan: Plan) -> None:
    groups = [g for s in plan.sites for g in _log_groups(s)]
    assert groups
    for group in groups:
        short = group.retention_days < AUDIT_RETENTION_DAYS
        assert len([w for w in _kinds(group.waivers) if w in RETENTION]) == short, group


def test_a_role_waives_account_trust_exactly_when_it_trusts_an_account(plan: Plan) -> None:
    for role in (r for s in plan.sites for r in s.roles):
        trusts = _kinds(role.waivers).count(Waiver.ACCOUNT_TRUST)
        assert trusts == (1 if role.trusted_roles else 0), role.key
        # The reason names every trusted account.
        for waived in role.waivers:
            assert all(account in waived.reason for account, _ in role.trusted_roles)


def test_a_cluster_waives_deletion_protection_only_where_the_site_is_destroyable(
    plan: Plan,
) -> None:
    for site in plan.sites:
        waivers = _kinds(site.database.waivers)
        assert (Waiver.DESTROYABLE_CLUSTER in waivers) == (not site.deletion_protection)
        assert (Waiver.NO_BACKUP_PLAN in waivers) == (site.backup is None)


def test_only_the_function_outside_the_vpc_says_so(plan: Plan) -> None:
    for fn in (f for s in plan.sites for f in s.functions):
        assert (Waiver.PROBES_FROM_OUTSIDE_VPC in _kinds(fn.waivers)) == (not fn.vpc)
        assert Waiver.PACKAGE_NOT_SIGNED in _kinds(fn.waivers)


def test_a_bucket_explains_why_it_replicates_nowhere(plan: Plan) -> None:
    for site in plan.sites:
        for bucket in site.buckets:
            local = [w for w in bucket.waivers if w.waiver is Waiver.NOT_REPLICATED]
            expected = bucket.not_replicated(site.id)
            assert [w.reason for w in local] == ([expected] if expected else [])
