"""Generated hub-and-spoke fleets (10, 41 and 60 environments, one account each, CIDRs with
gaps) compile, and every CloudFormation template stays within every quota of the model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fleet import fleet, write

from replgen.cli import main
from replgen.lint import cfn_lint
from replgen.plan import quotas

# 60 environments put 61 routes in the hub's route table: past the default 50, which AWS
# raises on request; no design fits 59 peerings in fewer routes.
FLEETS = {10: fleet(9), 41: fleet(40), 60: fleet(59, quotas={"routes_per_route_table": 100})}


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), f"duplicate keys: {sorted(keys)}"
    return dict(pairs)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """Each fleet compiled once, when a test first asks for it."""
    return {}


def compile_fleet(outputs: dict[int, Path], root: Path, size: int) -> Path:
    if size not in outputs:
        spec = write(FLEETS[size], root / f"fleet{size}.yaml")
        out = root / f"out{size}"
        result = CliRunner().invoke(
            main, ["compile", str(spec), "--backend", "cloudformation", "--out", str(out)]
        )
        assert result.exit_code == 0, result.output
        outputs[size] = out / "cloudformation"
    return outputs[size]


@pytest.fixture(params=sorted(FLEETS), ids=lambda n: f"{n}-environments")
def compiled(
    request: pytest.FixtureRequest,
    outputs: dict[int, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    return compile_fleet(outputs, tmp_path_factory.getbasetemp(), request.param)


def templates(folder: Path) -> dict[str, dict[str, Any]]:
    return {
        p.name: json.loads(p.read_text(), object_pairs_hook=unique_keys)
        for p in sorted(folder.glob("*.json"))
        if p.name != "manifest.json"
    }


def of_type(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r["Properties"] for r in template["Resources"].values() if r["Type"] == kind]


def test_every_template_is_within_the_template_quotas(compiled: Path) -> None:
    for name, template in templates(compiled).items():
        assert len(template["Resources"]) <= quotas.TEMPLATE_RESOURCES.value, name
        assert len(template.get("Parameters", {})) <= quotas.TEMPLATE_PARAMETERS.value, name
        assert len(template.get("Outputs", {})) <= quotas.TEMPLATE_OUTPUTS.value, name
        assert (compiled / name).stat().st_size <= quotas.TEMPLATE_BYTES.value, name


def test_every_acl_and_security_group_is_within_its_quota(compiled: Path) -> None:
    sites = 0
    for name, template in templates(compiled).items():
        entries = of_type(template, "AWS::EC2::NetworkAclEntry")
        for egress in (False, True):
            mine = [e["RuleNumber"] for e in entries if e["Egress"] == egress]
            assert len(mine) <= quotas.NACL_RULES.value, name
            assert len(mine) == len(set(mine)), name
        for group in of_type(template, "AWS::EC2::SecurityGroup"):
            for rules in ("SecurityGroupIngress", "SecurityGroupEgress"):
                assert len(group.get(rules, [])) <= quotas.SG_RULES.value, name
        for fn in of_type(template, "AWS::Lambda::Function"):
            groups = fn.get("VpcConfig", {}).get("SecurityGroupIds", [])
            assert len(groups) <= quotas.SG_PER_INTERFACE.value, name
        sites += bool(entries)
    assert sites == len(list(compiled.glob("e*.json"))) + 1  # every spoke and the hub


def test_the_hub_of_60_lints_clean(
    outputs: dict[int, Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    compiled = compile_fleet(outputs, tmp_path_factory.getbasetemp(), 60)
    targets = [compiled / n for n in ("hub.json", "e059.json", "peering-hub-e059.json")]
    assert cfn_lint(targets) == []
