"""The synthesised CDKTF stacks: committed, fresh, byte-stable, self-consistent, checkov clean."""

from __future__ import annotations

import importlib
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from outputs import EXAMPLES, ROOT, SPECS

from replgen import compiler
from replgen.cli import main

CHECKOV = ROOT / ".tools" / "checkov" / "bin" / "checkov"
# `${aws_vpc.vpc_1234.id}`, `${data.terraform_remote_state.x.outputs.y}`, inside any expression.
REFERENCE = re.compile(
    r"\b(data\.[a-z0-9_]+\.[A-Za-z0-9_-]+(?:\.outputs\.[A-Za-z0-9_]+)?"
    r"|ephemeral\.[a-z0-9_]+\.[A-Za-z0-9_-]+|aws_[a-z0-9_]+\.[A-Za-z0-9_-]+)"
)


def stacks(out: Path) -> dict[str, dict[str, Any]]:
    return {
        p.parent.name: json.loads(p.read_text())
        for p in sorted((out / "cdktf" / "stacks").glob("*/cdk.tf.json"))
    }


def expressions(node: Any) -> list[str]:
    if isinstance(node, str):
        return re.findall(r"\$\{(.*?)\}", node) if "${" in node else []
    if isinstance(node, dict):
        return [e for k, v in node.items() if k != "//" for e in expressions(v)]
    if isinstance(node, list):
        return [e for v in node for e in expressions(v)]
    return []


@pytest.mark.parametrize("spec", EXAMPLES, ids=lambda p: p.stem)
def test_committed_output_is_fresh_and_stable_across_processes(
    both: dict[str, Path], spec: Path
) -> None:
    """The committed stacks came from another process: equal bytes are both fresh and stable."""
    topology = yaml.safe_load(spec.read_text())["name"]
    fresh = both[spec.stem] / "cdktf"
    committed = ROOT / "templates_out" / topology / "cdktf"
    # cdktf.json's `app` names the spec relative to the output folder: test_cdktf_json_... below.
    names = sorted(
        p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file() and p.name != "cdktf.json"
    )
    assert len(names) > 5
    assert [n for n in names if (committed / n).read_bytes() != (fresh / n).read_bytes()] == []
    result = CliRunner().invoke(main, ["compile", str(spec), "--check"])  # the command itself
    assert result.exit_code == 0, result.output


def test_prod_has_a_stack_per_account_and_region_and_per_peering(both: dict[str, Path]) -> None:
    names = sorted(stacks(both["prod"]))
    assert names == [
        "dbrepl-prod01-dev-us-east-1",
        "dbrepl-prod01-peering-dev-staging",
        "dbrepl-prod01-peering-staging-prod",
        "dbrepl-prod01-prod-us-east-1",
        "dbrepl-prod01-staging-us-east-1",
    ]
    manifest = json.loads((both["prod"] / "cdktf" / "manifest.json").read_text())
    deps = {name: s["dependencies"] for name, s in manifest["stacks"].items()}
    assert deps["dbrepl-prod01-peering-dev-staging"] == [
        "dbrepl-prod01-dev-us-east-1",
        "dbrepl-prod01-staging-us-east-1",
    ]


def test_providers_assume_the_deploy_role_in_each_account(both: dict[str, Path]) -> None:
    prod = stacks(both["prod"])["dbrepl-prod01-prod-us-east-1"]
    (provider,) = prod["provider"]["aws"]
    assert provider["region"] == "us-east-1"
    assert provider["allowed_account_ids"] == ["333333333333"]
    assert provider["assume_role"][0]["role_arn"] == "arn:aws:iam::333333333333:role/replgen-deploy"
    assert provider["default_tags"][0]["tags"] == {
        "replgen:suffix": "prod01",
        "replgen:topology": "dbrepl",
    }
    peering = stacks(both["prod"])["dbrepl-prod01-peering-staging-prod"]
    accounts = sorted(p["allowed_account_ids"][0] for p in peering["provider"]["aws"])
    assert accounts == ["222222222222", "333333333333"]
    assert [p.get("alias") for p in peering["provider"]["aws"]] == [None, "accepter"]


def test_local_state_and_remote_states_point_at_sibling_stacks(both: dict[str, Path]) -> None:
    for name, stack in stacks(both["prod"]).items():
        assert stack["terraform"]["backend"] == {"local": {"path": "terraform.tfstate"}}
        for remote in stack.get("data", {}).get("terraform_remote_state", {}).values():
            assert remote["backend"] == "local"
            assert re.fullmatch(
                r"\.\./dbrepl-prod01-[a-z0-9-]+/terraform\.tfstate", remote["config"]["path"]
            )
            assert remote["config"]["path"] != f"../{name}/terraform.tfstate"


def _state_owner(remote: dict[str, Any]) -> str:
    """The stack whose state a remote-state block reads: `../<stack>/terraform.tfstate`
    (local) or `<topology>/<stack>.tfstate` (S3)."""
    config = remote["config"]
    if remote["backend"] == "s3":
        return str(config["key"]).split("/")[1].removesuffix(".tfstate")
    return str(config["path"]).split("/")[1]


def test_every_reference_resolves_inside_its_stack(both: dict[str, Path]) -> None:
    for spec, out in both.items():
        all_stacks = stacks(out)
        for name, stack in all_stacks.items():
            declared = {
                f"{kind}.{rid}"
                for kind, items in stack.get("resource", {}).items()
                for rid in items
            } | {
                f"{block}.{kind}.{rid}"
                for block in ("data", "ephemeral")
                for kind, items in stack.get(block, {}).items()
                for rid in items
            }
            remotes = stack.get("data", {}).get("terraform_remote_state", {})
            found = [r for e in expressions(stack) for r in REFERENCE.findall(e)]
            assert found, f"{spec}/{name}: no references at all"
            for ref in found:
                if ".outputs." in ref:
                    _, _, remote, _, output = ref.split(".")
                    producer = all_stacks[_state_owner(remotes[remote])]
                    assert output in producer.get("output", {}), f"{name}: {ref} has no output"
                else:
                    assert ref in declared, f"{spec}/{name}: {ref} is not declared in the stack"


def test_s3_state_backend_locks_and_remote_states_read_s3(both: dict[str, Path]) -> None:
    out = both["prod-s3-state"]
    dev = json.loads((out / "cdktf/stacks/dbrepl-prod01-dev-us-east-1/cdk.tf.json").read_text())
    assert dev["terraform"]["backend"]["s3"] == {
        "bucket": "acme-terraform-state",
        "key": "dbrepl-prod01/dbrepl-prod01-dev-us-east-1.tfstate",
        "region": "us-east-1",
        "encrypt": True,
        "use_lockfile": True,
    }
    peering = out / "cdktf/stacks/dbrepl-prod01-peering-dev-staging/cdk.tf.json"
    remotes = json.loads(peering.read_text())["data"]["terraform_remote_state"]
    assert {r["backend"] for r in remotes.values()} == {"s3"}
    assert sorted(r["config"]["key"] for r in remotes.values()) == [
        "dbrepl-prod01/dbrepl-prod01-dev-us-east-1.tfstate",
        "dbrepl-prod01/dbrepl-prod01-staging-us-east-1.tfstate",
    ]


def test_every_endpoint_has_the_topology_policy(both: dict[str, Path]) -> None:
    """The same document as CloudFormation's: the topology's accounts, as principals and as
    resource owners, and nothing else."""
    accounts = ["111111111111", "222222222222", "333333333333"]
    policies = [
        json.loads(endpoint["policy"])
        for stack in stacks(both["prod"]).values()
        for endpoint in stack.get("resource", {}).get("aws_vpc_endpoint", {}).values()
    ]
    assert len(policies) == 3 + 7  # S3 in every site; the interface endpoints in staging
    for policy in policies:
        [statement] = policy["Statement"]
        assert (statement["Effect"], statement["Principal"], statement["Action"]) == (
            "Allow",
            "*",
            "*",
        )
        assert statement["Condition"] == {
            "StringEquals": {"aws:PrincipalAccount": accounts},
            "StringEqualsIfExists": {"aws:ResourceAccount": accounts},
        }


def test_cdktf_json_reruns_the_compile_from_its_folder(both: dict[str, Path]) -> None:
    committed = ROOT / "templates_out" / "dbrepl" / "cdktf" / "cdktf.json"
    config = json.loads(committed.read_text())
    assert config["output"] == "."
    assert config["app"] == (
        "replgen compile --check --backend cdktf ../../../specs/prod.yaml --out .."
    )


def test_functions_name_the_packaged_zip_by_hash(both: dict[str, Path]) -> None:
    replsync = compiler.artifacts()["replsync"]
    staging = stacks(both["prod"])["dbrepl-prod01-staging-us-east-1"]
    functions = staging["resource"]["aws_lambda_function"].values()
    assert len(functions) == 2  # replsync, and its deploy-time bootstrap (same zip)
    for fn in functions:
        assert fn["s3_key"] == f"replgen/{replsync.filename}"
        assert fn["source_code_hash"] == replsync.base64_sha256
        assert fn["s3_bucket"] == "${var.artifact_bucket}"


def test_plan_text_reaches_terraform_unexpanded() -> None:
    from replgen.backends.cdktf.escape import literal

    assert literal("arn:${aws:username} %{x} $x") == "arn:$${aws:username} %%{x} $x"


def _skips(stack: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(logical id, check id) -> reason, from the skips written on resources and data."""
    found = {}
    for block in ("resource", "data"):
        for items in stack.get(block, {}).values():
            for rid, props in items.items():
                for skip in props.get("//", {}).get("checkov", {}).get("skip", []):
                    found[(rid, skip["id"])] = skip["comment"]
    return found


@pytest.mark.parametrize("spec", [s.stem for s in SPECS])
def test_checkov_has_no_failed_check(both: dict[str, Path], spec: str, tmp_path: Path) -> None:
    assert CHECKOV.exists(), "checkov is installed by `make test` into .tools/checkov"
    target = tmp_path / "stacks"
    shutil.copytree(both[spec] / "cdktf" / "stacks", target)
    run = subprocess.run(
        [str(CHECKOV), "-d", str(target), "--framework", "terraform_json", "-o", "json", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(run.stdout or "{}")
    reports = report if isinstance(report, list) else [report]
    skips = {
        (p.parent.name, *key): reason
        for p in target.glob("*/cdk.tf.json")
        for key, reason in _skips(json.loads(p.read_text())).items()
    }
    failed = []
    for r in reports:
        for c in r.get("results", {}).get("failed_checks", []):
            # "resource.<id>", "<type>.<id>" or "data.<id>", by the kind of check
            rid = c["resource"].rsplit(".", 1)[-1]
            where = (Path(c["file_path"]).parent.name, rid, c["check_id"])
            if len(skips.get(where, "")) < 20:  # skipped only with a written reason
                failed.append(" ".join(where))
    passed = sum(r.get("summary", {}).get("passed", 0) for r in reports)
    assert failed == []
    assert passed > 50, "checkov ran no meaningful checks"


def test_missing_cdktf_extra_is_a_clean_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    # As if the extra were not installed: every provider module import fails.
    for name in list(sys.modules):
        if name.startswith("replgen.backends.cdktf."):
            monkeypatch.delitem(sys.modules, name)
        elif name.split(".")[0] == "cdktf_cdktf_provider_aws":
            monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "cdktf_cdktf_provider_aws", None)
    package = importlib.import_module("replgen.backends.cdktf")  # loaded, bindings not
    monkeypatch.delattr(package, "app", raising=False)
    result = CliRunner().invoke(
        main, ["compile", "specs/prod.yaml", "--backend", "cdktf", "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "pip install 'replgen[cdktf]'" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "o").exists()


def test_missing_node_is_a_clean_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins
    import sys

    # jsii starts `node` when the bindings load: as if it were not on PATH.
    package = importlib.import_module("replgen.backends.cdktf")  # loaded, bindings not
    monkeypatch.delattr(package, "app", raising=False)
    monkeypatch.delitem(sys.modules, "replgen.backends.cdktf.app", raising=False)
    real_import = builtins.__import__

    def no_node(name: str, *args: Any, **kwargs: Any) -> Any:
        fromlist = args[2] if len(args) > 2 else kwargs.get("fromlist")
        if name == "replgen.backends.cdktf" and fromlist and "app" in fromlist:
            raise FileNotFoundError(2, "No such file or directory", "node")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_node)
    result = CliRunner().invoke(
        main, ["compile", "specs/prod.yaml", "--backend", "cdktf", "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "node: the cdktf backend needs Node.js" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "o").exists()
