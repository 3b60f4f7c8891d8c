"""Internal faults are not spec errors: a duplicate identity or a renderer's ValueError exits 1
with "internal error", never with a file:line:col that would blame the spec."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from replgen import compiler
from replgen.cli import main
from replgen.plan.identities import DuplicateIdentity, assert_unique

ROOT = Path(__file__).parents[2]
PROD = ROOT / "specs" / "prod.yaml"


def test_a_plan_naming_one_thing_twice_is_an_internal_error() -> None:
    plan = compiler.plan_for(compiler.load_spec(PROD))
    staging = plan.site("staging")
    doubled = replace(
        staging,
        network=replace(staging.network, acl_entries=staging.network.acl_entries * 2),
    )
    broken = replace(plan, sites=(*plan.sites, plan.sites[0]), peerings=plan.peerings * 2)
    with pytest.raises(DuplicateIdentity, match="site dev, site slug dev"):
        assert_unique(broken)
    sites = tuple(doubled if s.id == "staging" else s for s in plan.sites)
    with pytest.raises(DuplicateIdentity, match=r"acl entry in staging \(False, 100\)"):
        assert_unique(replace(plan, sites=sites))
    assert assert_unique(plan) is plan


def test_a_renderer_failure_exits_1_as_an_internal_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise ValueError('duplicate key "PrivateAclEgress400"')

    monkeypatch.setattr("replgen.backends.cloudformation.COMPONENTS", (broken,), raising=True)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["compile", str(PROD), "--out", str(out)])
    assert result.exit_code == 1
    assert "internal error: ValueError: duplicate key" in result.output
    assert "report it with the traceback" in result.output
    assert f"{PROD}:" not in result.output  # nothing blames a line of the spec
    assert not out.exists()  # nothing written
