"""The compiled CloudFormation: committed and fresh, byte-stable, cfn-lint and checkov clean."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from replgen.cli import main
from replgen.lint import cfn_lint
from replgen.plan import quotas

ROOT = Path(__file__).parents[2]
CHECKOV = ROOT / ".tools" / "checkov" / "bin" / "checkov"
EXAMPLES = sorted((ROOT / "specs").glob("*.yaml"))
VALID = ROOT / "tests" / "specs" / "valid"
SPECS = [*EXAMPLES, VALID / "four-envs.yaml", VALID / "dr-variant.yaml"]


def compile_to(spec: Path, out: Path, *extra: str) -> Path:
    result = CliRunner().invoke(main, ["compile", str(spec), "--out", str(out), *extra])
    assert result.exit_code == 0, result.stderr
    return out / "cloudformation"


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cfn")
    return {spec.stem: compile_to(spec, root / spec.stem) for spec in SPECS}


@pytest.mark.parametrize("spec", EXAMPLES, ids=lambda p: p.stem)
def test_committed_output_is_fresh(spec: Path) -> None:
    result = CliRunner().invoke(main, ["compile", str(spec), "--check"])
    assert result.exit_code == 0, result.stderr


def test_check_detects_stale_output(tmp_path: Path) -> None:
    out = compile_to(ROOT / "specs" / "prod.yaml", tmp_path / "o")
    (out / "dev.json").write_text("{}\n")
    result = CliRunner().invoke(
        main, ["compile", "specs/prod.yaml", "--out", str(tmp_path / "o"), "--check"]
    )
    assert result.exit_code == 1
    assert "dev.json" in result.stderr


def test_recompiling_gives_identical_bytes(compiled: dict[str, Path], tmp_path: Path) -> None:
    again = compile_to(ROOT / "specs" / "prod.yaml", tmp_path / "again")
    first = {p.name: p.read_bytes() for p in compiled["prod"].iterdir()}
    second = {p.name: p.read_bytes() for p in again.iterdir()}
    assert first == second


def test_manifest_orders_stacks_after_their_inputs(compiled: dict[str, Path]) -> None:
    for out in compiled.values():
        manifest = json.loads((out / "manifest.json").read_text())
        seen: set[str] = set()
        for stack in manifest["stacks"]:
            template = json.loads((out / stack["template"]).read_text())
            for param, source in stack["inputs"].items():
                assert source["stack"] in seen, f"{stack['name']} reads {source} before it exists"
                assert param in template["Parameters"]
                producer = next(s for s in manifest["stacks"] if s["name"] == source["stack"])
                outputs = json.loads((out / producer["template"]).read_text())["Outputs"]
                assert source["output"] in outputs
            seen.add(stack["name"])


def test_disaster_recovery_deploys_foundations_first(compiled: dict[str, Path]) -> None:
    """Secondary foundation (the keys the primary's replicas use), primary foundation
    (its buckets replicate into the secondary's), primary, then the secondary reading it."""
    manifest = json.loads((compiled["dr"] / "manifest.json").read_text())
    order = [s["name"] for s in manifest["stacks"]]
    assert order == [
        "txndr-dr01-bootstrap-444444444444-us-east-1",  # the artifact buckets, first
        "txndr-dr01-bootstrap-444444444444-us-east-2",
        "txndr-dr01-prod-us-east-2-foundation",
        "txndr-dr01-prod-us-east-1-foundation",
        "txndr-dr01-prod-us-east-1",
        "txndr-dr01-prod-us-east-2",
        "txndr-dr01-peering-prod-us-east-1-prod-us-east-2",
        "txndr-dr01-peering-prod-us-east-1-prod-us-east-2-accept",
    ]
    depends = {s["name"]: s["depends_on"] for s in manifest["stacks"]}
    assert depends["txndr-dr01-prod-us-east-2-foundation"] == []
    assert depends["txndr-dr01-prod-us-east-1-foundation"] == [
        "txndr-dr01-prod-us-east-2-foundation"
    ]
    assert depends["txndr-dr01-prod-us-east-1"] == [
        "txndr-dr01-bootstrap-444444444444-us-east-1",
        "txndr-dr01-prod-us-east-1-foundation",
        "txndr-dr01-prod-us-east-2-foundation",
    ]
    assert depends["txndr-dr01-prod-us-east-2"] == [
        "txndr-dr01-bootstrap-444444444444-us-east-2",
        "txndr-dr01-prod-us-east-1",
        "txndr-dr01-prod-us-east-1-foundation",  # the zone and health checks
        "txndr-dr01-prod-us-east-2-foundation",
    ]
    templates = {s["name"]: (s["template"], s["region"]) for s in manifest["stacks"]}
    assert templates["txndr-dr01-prod-us-east-2-foundation"] == (
        "prod-us-east-2-foundation.json",
        "us-east-2",
    )


@pytest.mark.parametrize("spec", [s.stem for s in SPECS])
def test_cfn_lint_is_clean(compiled: dict[str, Path], spec: str) -> None:
    assert cfn_lint([compiled[spec]]) == []


@pytest.mark.parametrize("spec", [s.stem for s in SPECS])
def test_checkov_has_no_failed_check(compiled: dict[str, Path], spec: str, tmp_path: Path) -> None:
    assert CHECKOV.exists(), "checkov is installed by `make test` into .tools/checkov"
    target = tmp_path / "templates"
    shutil.copytree(
        compiled[spec],
        target,
        ignore=shutil.ignore_patterns("manifest.json", ".replgen-owned"),
    )
    run = subprocess.run(
        [str(CHECKOV), "-d", str(target), "--framework", "cloudformation", "-o", "json", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(run.stdout or "{}")
    reports = report if isinstance(report, list) else [report]
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']})"
        for r in reports
        for c in r.get("results", {}).get("failed_checks", [])
    ]
    passed = sum(r.get("summary", {}).get("passed", 0) for r in reports)
    assert failed == []
    assert passed > 50, "checkov ran no meaningful checks"


@pytest.mark.parametrize("spec", [s.stem for s in SPECS])
def test_inline_functions_fit_the_inline_code_quota(both: dict[str, Path], spec: str) -> None:
    """The helper functions CloudFormation runs from inline source stay within ZipFile's
    limit on every output (the emptier's code is the closest to it)."""
    sizes = [
        len(resource["Properties"]["Code"]["ZipFile"])
        for path in (both[spec] / "cloudformation").glob("*.json")
        if path.name != "manifest.json"
        for resource in json.loads(path.read_text()).get("Resources", {}).values()
        if resource["Type"] == "AWS::Lambda::Function"
        and "ZipFile" in resource["Properties"].get("Code", {})
    ]
    assert sizes, "no inline function at all"
    assert max(sizes) <= quotas.INLINE_CODE.value, sizes
