"""What outlives deleting a site's stacks is a plan decision: protected sites keep their data,
destroyable ones get what empties them; the spec's default follows `production`."""

from __future__ import annotations

from pathlib import Path

import pytest

from replgen.plan.build import build
from replgen.plan.model import Code, Emptier, Plan, Site, VaultLock
from replgen.spec.load import load

ROOT = Path(__file__).parents[2]
VALID = ROOT / "tests" / "specs" / "valid"
CODE = {
    name: Code(name, f"{name}-0123456789ab.zip", "0" * 64, "AAAA")
    for name in ("replsync", "txnproc")
}


def plan_of(path: Path) -> Plan:
    return build(load(path).spec, CODE)


def _variant(tmp_path: Path, source: Path, *edits: tuple[str, str]) -> Plan:
    text = source.read_text()
    for old, new in edits:
        assert old in text
        text = text.replace(old, new, 1)
    spec = tmp_path / source.name
    spec.write_text(text)
    return plan_of(spec)


def _protected(site: Site) -> None:
    db = site.database
    assert site.deletion_protection
    assert db.final_snapshot == f"{db.cluster_id}-final"
    assert site.key.deletion_window_days == 30
    assert site.emptiers == ()


def _destroyable(site: Site) -> None:
    assert not site.deletion_protection
    assert site.database.final_snapshot is None
    assert site.key.deletion_window_days == 7
    emptied = {k for e in site.emptiers for k in e.buckets}
    assert emptied == {b.key for b in site.buckets}, "every bucket is emptied on delete"
    assert any(e.vault for e in site.emptiers) == (site.backup is not None)
    assert site.backup is None or site.backup.lock is None
    for emptier in site.emptiers:
        # Its log group is encrypted with the site key, which must admit it.
        assert any(a.endswith(emptier.log_group.name) for a in site.key.log_group_arns)


def test_examples_opt_out_so_they_stay_destroyable() -> None:
    for spec in ("prod.yaml", "dr.yaml"):
        for site in plan_of(ROOT / "specs" / spec).sites:
            _destroyable(site)


def test_production_is_protected_by_default() -> None:
    plan = plan_of(VALID / "four-envs.yaml")
    by_id = {s.id: s for s in plan.sites}
    _protected(by_id["prod"])
    for env in ("dev", "qa", "staging"):
        _destroyable(by_id[env])


def test_any_environment_can_ask_for_protection(tmp_path: Path) -> None:
    plan = _variant(
        tmp_path,
        VALID / "four-envs.yaml",
        ("cidr: 10.40.0.0/20}", "cidr: 10.40.0.0/20, deletion_protection: true}"),
        ("production: true,", "production: true, deletion_protection: false,"),
    )
    by_id = {s.id: s for s in plan.sites}
    _protected(by_id["dev"])
    _destroyable(by_id["prod"])


def test_protected_dr_sites_lock_their_vaults_when_asked() -> None:
    plan = plan_of(VALID / "dr-variant.yaml")
    for site in plan.sites:
        _protected(site)
        assert site.backup is not None
        assert site.backup.lock == VaultLock(min_retention_days=14, max_retention_days=35)


def test_an_unlocked_protected_vault(tmp_path: Path) -> None:
    plan = _variant(tmp_path, VALID / "dr-variant.yaml", (", vault_lock: true}", "}"))
    assert all(s.backup is not None and s.backup.lock is None for s in plan.sites)


@pytest.fixture(scope="module")
def dr() -> Plan:
    return plan_of(ROOT / "specs" / "dr.yaml")


def test_each_stack_of_a_destroyable_site_empties_what_it_holds(dr: Plan) -> None:
    """The DR buckets live in the foundation, the vault in the main stack: one emptier each."""
    site = dr.site("prod/us-east-1")
    foundation, main = site.emptiers
    assert (foundation.foundation, main.foundation) == (True, False)
    assert set(foundation.buckets) == {b.key for b in site.buckets}
    assert set(foundation.buckets) <= set(site.foundation)
    assert (foundation.vault, main.vault, main.buckets) == (False, True, ())
    names = [e.log_group.name for e in site.emptiers]
    assert names == [
        "/replgen/txndr-dr01/prod-us-east-1/foundation-emptier",
        "/replgen/txndr-dr01/prod-us-east-1/emptier",
    ]


def _resources(emptier: Emptier) -> dict[str, tuple[str, ...]]:
    return {s.sid: tuple(str(r) for r in s.resources) for s in emptier.statements}


def test_emptiers_name_exact_arns(dr: Plan) -> None:
    site = dr.site("prod/us-east-2")
    foundation, main = site.emptiers
    buckets = tuple(f"arn:aws:s3:::{b.name}" for b in site.buckets)
    assert _resources(foundation) == {
        "EmptyOwnBuckets": buckets,
        "DeleteOwnObjectVersions": tuple(f"{b}/*" for b in buckets),
    }
    vault = "arn:aws:backup:us-east-2:444444444444:backup-vault:txndr-dr01-prod-us-east-2"
    assert _resources(main) == {
        "ReadOwnVault": (vault,),
        # Recovery point ids are made by each backup: this account's and region's only.
        "DeleteRecoveryPoints": (
            "arn:aws:backup:us-east-2:444444444444:recovery-point:*",
            "arn:aws:rds:us-east-2:444444444444:cluster-snapshot:awsbackup:job-*",
        ),
    }
    for emptier in site.emptiers:
        for statement in emptier.statements:
            assert "*" not in statement.resources
