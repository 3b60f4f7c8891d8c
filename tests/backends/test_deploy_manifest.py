"""The manifests say everything a deployment needs: capabilities, template sizes and how
each template is passed, a source for every parameter, the bootstrap first, the pauses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import troposphere as t

from replgen.backends.cloudformation import (
    TEMPLATE_BODY_LIMIT,
    StackSpec,
    _parameters,
    capabilities,
)
from replgen.backends.cloudformation.context import Ctx
from replgen.plan.layout import StackSlot


def _manifests(both: dict[str, Path], backend: str, name: str) -> list[dict[str, Any]]:
    return [json.loads((root / backend / name).read_text()) for root in both.values()]


def test_every_parameter_without_a_default_has_a_source(both: dict[str, Path]) -> None:
    for root in both.values():
        folder = root / "cloudformation"
        manifest = json.loads((folder / "manifest.json").read_text())
        for stack in manifest["stacks"]:
            template = json.loads((folder / stack["template"]).read_text())
            for name, param in template.get("Parameters", {}).items():
                if "Default" in param:
                    continue
                described = stack["inputs"].get(name) or stack["parameters"].get(name, {})
                assert described.get("stack") or described.get("source"), (stack["name"], name)


def test_sizes_and_how_each_template_travels(both: dict[str, Path]) -> None:
    for root in both.values():
        folder = root / "cloudformation"
        for stack in json.loads((folder / "manifest.json").read_text())["stacks"]:
            size = len((folder / stack["template"]).read_bytes())
            assert stack["template_bytes"] == size
            assert stack["template_via"] == ("s3" if size > TEMPLATE_BODY_LIMIT else "inline")


def test_capabilities_follow_what_each_template_holds(both: dict[str, Path]) -> None:
    manifest = json.loads((both["dr"] / "cloudformation" / "manifest.json").read_text())
    caps = {s["name"]: s["capabilities"] for s in manifest["stacks"]}
    # The primary's hosted rotation is a macro (AWS::SecretsManager-2020-07-23).
    assert caps["txndr-dr01-prod-us-east-1"] == ["CAPABILITY_AUTO_EXPAND", "CAPABILITY_NAMED_IAM"]
    assert caps["txndr-dr01-prod-us-east-2"] == ["CAPABILITY_NAMED_IAM"]
    assert caps["txndr-dr01-peering-prod-us-east-1-prod-us-east-2"] == []


def test_capabilities_of_unnamed_iam_and_nested_stacks() -> None:
    unnamed = {"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {}}}}
    nested = {"Resources": {"S": {"Type": "AWS::CloudFormation::Stack", "Properties": {}}}}
    assert capabilities(unnamed) == ["CAPABILITY_IAM"]
    assert capabilities(nested) == ["CAPABILITY_AUTO_EXPAND"]


def test_a_parameter_nobody_fills_is_an_internal_fault() -> None:
    template = t.Template()
    template.add_parameter(t.Parameter("Orphan", Type="String"))
    ctx = Ctx(None, template, False, lambda r: "")  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="Orphan has no default and no source"):
        _parameters(StackSpec(StackSlot("s", "site", "s", "1", "r", False), ctx))


def test_bootstrap_comes_first_with_the_role_once_per_account(both: dict[str, Path]) -> None:
    prod = json.loads((both["prod"] / "cloudformation" / "manifest.json").read_text())
    boots = [s for s in prod["stacks"] if s["bootstrap"]]
    assert prod["stacks"][: len(boots)] == boots
    assert {s["account"] for s in boots} == {"111111111111", "222222222222", "333333333333"}
    assert all(s["parameters"]["DeployFromAccount"]["source"] == "deployer" for s in boots)
    dr = json.loads((both["dr"] / "cloudformation" / "manifest.json").read_text())
    # One account, two regions: a bucket per region; no role, since no account is foreign.
    dr_boots = [s for s in dr["stacks"] if s["bootstrap"]]
    assert [s["region"] for s in dr_boots] == ["us-east-1", "us-east-2"]
    assert all(s["parameters"] == {} for s in dr_boots)


def test_the_dr_pause_names_the_zone_stack_and_its_name_servers(both: dict[str, Path]) -> None:
    for backend, manifest_name in (("cloudformation", "manifest.json"), ("cdktf", "deploy.json")):
        manifest = json.loads((both["dr"] / backend / manifest_name).read_text())
        (pause,) = manifest["pauses"]
        assert pause["after"] == "txndr-dr01-prod-us-east-1-foundation"
        assert "delegate txn.example.com" in pause["reason"]
        (show,) = pause["show"]
        assert show["stack"] == pause["after"]
    prod = json.loads((both["prod"] / "cloudformation" / "manifest.json").read_text())
    assert prod["pauses"] == []


def test_cdktf_deploy_manifest_orders_stacks_and_sources_the_bucket(both: dict[str, Path]) -> None:
    document = json.loads((both["prod"] / "cdktf" / "deploy.json").read_text())
    names = [s["name"] for s in document["stacks"]]
    for i, stack in enumerate(document["stacks"]):
        assert set(stack["depends_on"]) <= set(names[:i]), stack["name"]
        assert (both["prod"] / "cdktf" / stack["directory"] / "cdk.tf.json").exists()
    staging = next(s for s in document["stacks"] if s["name"] == "dbrepl-prod01-staging-us-east-1")
    bucket = staging["variables"]["artifact_bucket"]
    boot = next(b for b in document["bootstrap"] if b["slug"] == bucket["bootstrap"])
    assert (boot["account"], boot["region"]) == ("222222222222", "us-east-1")
    assert bucket["value"] == boot["bucket"]
    assert boot["deploy_role"] == "replgen-deploy"


def test_the_spec_names_the_account_deployments_start_from(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from replgen.cli import main

    root = Path(__file__).parents[2]
    spec = tmp_path / "prod.yaml"
    text = (root / "specs" / "prod.yaml").read_text()
    spec.write_text(text + "state:\n  deploy_from: prod\n")
    result = CliRunner().invoke(main, ["compile", str(spec), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "o" / "cloudformation"
    manifest = json.loads((folder / "manifest.json").read_text())
    boot = next(s for s in manifest["stacks"] if s["bootstrap"])
    assert boot["parameters"]["DeployFromAccount"]["source"] == "deployer"
    assert boot["parameters"]["DeployFromAccount"]["Default"] == "333333333333"
    template = json.loads((folder / boot["template"]).read_text())
    assert template["Parameters"]["DeployFromAccount"]["Default"] == "333333333333"
    dry = CliRunner().invoke(
        main, ["bootstrap", str(spec), "--out", str(tmp_path / "o"), "--dry-run"]
    )
    assert "DeployFromAccount <- 333333333333" in dry.stdout
    flag = CliRunner().invoke(
        main,
        ["bootstrap", str(spec), "--out", str(tmp_path / "o"), "--dry-run", "--deploy-from", "1"],
    )
    assert "DeployFromAccount <- 1" in flag.stdout, "the flag wins over the spec"
