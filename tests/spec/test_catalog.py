"""The service tables a spec is validated against: a snapshot of the installed cfn-lint's
data, read without putting cfn-lint on the validate/compile path (held by
tests/cli/test_cli_imports.py)."""

from __future__ import annotations

from importlib import resources

from replgen.spec import catalog, cfnlint_data


def test_the_snapshot_matches_the_installed_cfn_lint() -> None:
    committed = resources.files("replgen.spec").joinpath("catalog.json").read_text("utf-8")
    assert committed == cfnlint_data.dumps(cfnlint_data.snapshot()), (
        "refresh it: python -m replgen.spec.cfnlint_data > src/replgen/spec/catalog.json"
    )


def test_the_catalog_answers_from_the_snapshot() -> None:
    assert "15.10" in catalog.engine_versions("aurora-postgresql")
    assert "db.r6g.large" in catalog.instance_classes("aurora-postgresql", "15.10")
    assert catalog.instance_classes("aurora-postgresql", "no-such-version") == frozenset()
    assert catalog.engine_versions("no-such-engine") == frozenset()
    assert {"us-east-1", "eu-south-2"} <= catalog.regions()
    assert catalog.lambda_runtimes()["python3.9"].deprecated
