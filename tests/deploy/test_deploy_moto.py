"""Bootstrap, deploy, diff and destroy specs/prod.yaml into three moto accounts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from deploy_helpers import DEPLOYER, ROOT, client, replgen

from replgen.cli import main

SPEC = str(ROOT / "specs" / "prod.yaml")
ACCOUNTS = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}


def _manifest(out: Path) -> dict[str, Any]:
    return json.loads((out / "cloudformation" / "manifest.json").read_text())


def _stack(name: str, account: str, region: str = "us-east-1") -> dict[str, Any] | None:
    cf: Any = client("cloudformation", account, region)
    found = [s for s in cf.describe_stacks()["Stacks"] if s["StackName"] == name]
    live = [s for s in found if s["StackStatus"] != "DELETE_COMPLETE"]
    return live[0] if live else None


@pytest.fixture()
def capabilities(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Which capabilities each CreateChangeSet carried (moto accepts any, so we look)."""
    from moto.cloudformation.responses import CloudFormationResponse

    seen: dict[str, list[str]] = {}
    original = CloudFormationResponse.create_change_set

    def spy(self: Any) -> Any:
        seen[self._get_param("StackName")] = list(self._get_param("Capabilities", []))
        return original(self)

    monkeypatch.setattr(CloudFormationResponse, "create_change_set", spy)
    return seen


def test_bootstrap_deploy_redeploy_diff_destroy(
    aws: None, moto_out: Path, capabilities: dict[str, list[str]]
) -> None:
    manifest = _manifest(moto_out)
    out = ["--out", str(moto_out), "--yes"]

    boot = replgen("bootstrap", SPEC, *out)
    assert boot.exit_code == 0, boot.output
    for account in ACCOUNTS.values():
        stack = _stack(f"dbrepl-prod01-bootstrap-{account}-us-east-1", account)
        assert stack is not None and stack["StackStatus"] == "CREATE_COMPLETE"
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
        assert outputs["ArtifactBucket"].endswith(f"-{account}-us-east-1")
        params = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
        assert params == {"DeployFromAccount": DEPLOYER}
    assert _stack("dbrepl-prod01-dev", ACCOUNTS["dev"]) is None, "bootstrap deploys only itself"

    first = replgen("deploy", SPEC, *out)
    assert first.exit_code == 0, first.output
    order = [s["name"] for s in manifest["stacks"] if not s["bootstrap"]]
    done = [line.split(":")[0] for line in first.stdout.splitlines() if line.endswith(": done")]
    assert done == order, "every stack, in manifest order"
    for entry in manifest["stacks"]:
        stack = _stack(entry["name"], entry["account"])
        assert stack is not None, f"{entry['name']} in {entry['account']}"
        assert stack["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
        assert capabilities[entry["name"]] == entry["capabilities"] or entry["bootstrap"]

    # Parameters plumbed from earlier stacks' outputs, across accounts.
    staging = _stack("dbrepl-prod01-staging", ACCOUNTS["staging"])
    dev = _stack("dbrepl-prod01-dev", ACCOUNTS["dev"])
    boot_staging = _stack(
        f"dbrepl-prod01-bootstrap-{ACCOUNTS['staging']}-us-east-1", "222222222222"
    )
    assert staging and dev and boot_staging
    params = {p["ParameterKey"]: p["ParameterValue"] for p in staging["Parameters"]}
    dev_out = {o["OutputKey"]: o["OutputValue"] for o in dev["Outputs"]}
    bucket = {o["OutputKey"]: o["OutputValue"] for o in boot_staging["Outputs"]}["ArtifactBucket"]
    assert params["DevClusterEndpoint"] == dev_out["ClusterEndpoint"]
    assert params["ArtifactBucket"] == bucket
    peering = _stack("dbrepl-prod01-peering-dev-staging", ACCOUNTS["dev"])
    assert peering is not None
    peer_params = {p["ParameterKey"]: p["ParameterValue"] for p in peering["Parameters"]}
    assert peer_params["DevVpcId"] == dev_out["VpcId"]

    # The zip and the large template went through the staging account's bootstrap bucket.
    s3: Any = client("s3", ACCOUNTS["staging"])
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert any(k.startswith("replgen/replsync-") and k.endswith(".zip") for k in keys)
    assert any(k.startswith("replgen/templates/dbrepl-prod01-staging-") for k in keys)
    staging_entry = next(s for s in manifest["stacks"] if s["name"] == "dbrepl-prod01-staging")
    assert staging_entry["template_via"] == "s3"

    again = replgen("deploy", SPEC, *out)
    assert again.exit_code == 0, again.output
    assert "nothing to do: every stack is up to date" in again.stdout

    same = replgen("diff", SPEC, "--out", str(moto_out))
    assert same.exit_code == 0, same.output
    assert "no changes" in same.stdout

    # A change to one template: diff shows it (as a change set, not executed).
    dev_path = moto_out / "cloudformation" / "dev.json"
    template = json.loads(dev_path.read_text())
    template["Resources"]["Vpc"]["Properties"]["Tags"].append({"Key": "team", "Value": "dba"})
    dev_path.write_text(json.dumps(template))
    changed = replgen("diff", SPEC, "--out", str(moto_out))
    assert changed.exit_code == 1, changed.output
    assert "Vpc" in changed.stdout and "Modify" in changed.stdout
    assert "dbrepl-prod01-dev" in changed.stdout
    dev_cf: Any = client("cloudformation", ACCOUNTS["dev"])
    body = dev_cf.get_template(StackName="dbrepl-prod01-dev")["TemplateBody"]
    deployed = body if isinstance(body, dict) else json.loads(body)
    assert {"Key": "team", "Value": "dba"} not in deployed["Resources"]["Vpc"]["Properties"]["Tags"]

    refused = replgen("destroy", SPEC, *out)
    assert refused.exit_code == 2
    assert "dbrepl-prod01-prod" in refused.stderr
    assert _stack("dbrepl-prod01-dev", ACCOUNTS["dev"]) is not None, "nothing deleted on refusal"

    production = [s["name"] for s in manifest["stacks"] if s["production"]]
    named = [arg for name in production for arg in ("--production", name)]
    gone = replgen("destroy", SPEC, *out, *named)
    assert gone.exit_code == 0, gone.output
    deleted = [line.split()[1] for line in gone.stdout.splitlines() if line.startswith("  delete ")]
    assert deleted == list(reversed(order)), "reverse manifest order"
    for entry in manifest["stacks"]:
        present = _stack(entry["name"], entry["account"]) is not None
        assert present == entry["bootstrap"], entry["name"]


def test_a_failure_stops_the_run_and_names_the_stack(aws: None, moto_out: Path) -> None:
    folder = moto_out / "cloudformation"
    template = json.loads((folder / "prod.json").read_text())
    # A route into a route table that does not exist: moto refuses it, as AWS would.
    template["Resources"]["Broken"] = {
        "Type": "AWS::EC2::Route",
        "Properties": {
            "RouteTableId": "rtb-00000000",
            "DestinationCidrBlock": "10.9.0.0/16",
            "GatewayId": "igw-00000000",
        },
    }
    (folder / "prod.json").write_text(json.dumps(template))
    result = replgen("deploy", SPEC, "--out", str(moto_out), "--yes")
    assert result.exit_code == 3, result.output
    assert "stopped: dbrepl-prod01-prod" in result.stderr
    assert _stack("dbrepl-prod01-dev", ACCOUNTS["dev"]) is not None, "stacks before it deployed"
    assert _stack("dbrepl-prod01-staging", ACCOUNTS["staging"]) is None, "nothing after it"
    kept = CliRunner().invoke(
        main,
        ["destroy", SPEC, "--out", str(moto_out), "--production", "dbrepl-prod01-prod"],
        input="n\n",
    )
    assert kept.exit_code == 3, kept.output
    assert "stopped: nothing deleted" in kept.stderr
    assert _stack("dbrepl-prod01-dev", ACCOUNTS["dev"]) is not None


def test_a_pause_stops_the_run_until_told_it_is_done(aws: None, moto_out: Path) -> None:
    path = moto_out / "cloudformation" / "manifest.json"
    manifest = json.loads(path.read_text())
    # prod.yaml has no pause (dr.yaml has one: its zone); the run honours any in the manifest.
    manifest["pauses"] = [
        {
            "after": "dbrepl-prod01-dev",
            "reason": "look at dev first",
            "show": [{"stack": "dbrepl-prod01-dev", "output": "VpcId"}],
        }
    ]
    path.write_text(json.dumps(manifest))
    out = ["--out", str(moto_out), "--yes"]
    first = replgen("deploy", SPEC, *out)
    assert first.exit_code == 0, first.output
    assert "PAUSE after dbrepl-prod01-dev: look at dev first" in first.stdout
    assert "VpcId = vpc-" in first.stdout
    assert "paused after dbrepl-prod01-dev" in first.stdout
    assert _stack("dbrepl-prod01-prod", ACCOUNTS["prod"]) is None
    resumed = replgen("deploy", SPEC, *out, "--continue-after", "dbrepl-prod01-dev")
    assert resumed.exit_code == 0, resumed.output
    assert "dbrepl-prod01-dev: unchanged" in resumed.stdout
    assert _stack("dbrepl-prod01-peering-staging-prod-accept", ACCOUNTS["prod"]) is not None


def test_dry_run_calls_nothing(moto_out: Path) -> None:
    # No moto here: a call to AWS would fail for want of credentials and endpoint.
    result = replgen(
        "deploy",
        SPEC,
        "--out",
        str(moto_out),
        "--dry-run",
        "--profile-map",
        "prod=prod-admin",
        "--endpoint-url",
        "http://127.0.0.1:9",
    )
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "dbrepl-prod01-prod: account 333333333333 (profile prod-admin)" in text
    assert "template staging.json: uploaded to the bootstrap bucket, passed as TemplateURL" in text
    assert (
        "ArtifactBucket <- dbrepl-prod01-bootstrap-222222222222-us-east-1 output ArtifactBucket"
        in text
    )
    assert "DevClusterEndpoint <- dbrepl-prod01-dev output ClusterEndpoint" in text
    assert "capabilities: CAPABILITY_NAMED_IAM" in text
    assert "upload replsync-" in text


def test_an_unknown_profile_alias_is_a_usage_error(moto_out: Path) -> None:
    result = replgen("deploy", SPEC, "--out", str(moto_out), "--profile-map", "qa=x", "--yes")
    assert result.exit_code == 2
    assert "--profile-map names qa" in result.stderr


def test_the_dr_deploy_stops_to_delegate_its_zone(aws: None, tmp_path: Path) -> None:
    from deploy_helpers import compile_cfn
    from moto_adapt import adapt_folder_bytes

    out = compile_cfn(ROOT / "specs" / "dr.yaml", tmp_path / "dr")
    folder = out / "cloudformation"
    files = {p.name: p.read_bytes() for p in folder.glob("*.json")}
    for name, content in adapt_folder_bytes(files).items():
        (folder / name).write_bytes(content)
    result = replgen("deploy", str(ROOT / "specs" / "dr.yaml"), "--out", str(out), "--yes")
    assert result.exit_code == 0, result.output
    assert "PAUSE after txndr-dr01-prod-us-east-1-foundation: delegate txn.example.com" in (
        result.stdout
    )
    assert "ZoneNameServers = stub-HostedZone-NameServers" in result.stdout
    assert "--continue-after txndr-dr01-prod-us-east-1-foundation" in result.stdout
    assert _stack("txndr-dr01-prod-us-east-2-foundation", "444444444444", "us-east-2")
    assert _stack("txndr-dr01-prod-us-east-1", "444444444444") is None, "nothing after the pause"


def test_answering_no_executes_nothing(aws: None, moto_out: Path) -> None:
    result = CliRunner().invoke(main, ["bootstrap", SPEC, "--out", str(moto_out)], input="n\n")
    assert result.exit_code == 3, result.output
    assert "execute the change set on dbrepl-prod01-bootstrap-111111111111-us-east-1?" in (
        result.output
    )
    assert "stopped before dbrepl-prod01-bootstrap-111111111111-us-east-1" in result.stderr
    assert _stack("dbrepl-prod01-bootstrap-111111111111-us-east-1", "111111111111") is None


def test_stacks_selects_by_pattern(moto_out: Path) -> None:
    only = replgen("deploy", SPEC, "--out", str(moto_out), "--dry-run", "--stacks", "*-dev")
    assert only.exit_code == 0, only.output
    assert [line for line in only.stdout.splitlines() if not line.startswith(" ")] == [
        "dbrepl-prod01-dev: account 111111111111 (current credentials, or assume role "
        "replgen-deploy there), region us-east-1"
    ]
    none = replgen("deploy", SPEC, "--out", str(moto_out), "--dry-run", "--stacks", "nope")
    assert none.exit_code == 2
    assert "--stacks nope matches none of" in none.stderr


def test_bootstrap_needs_no_compiled_cloudformation(aws: None, tmp_path: Path) -> None:
    """A topology compiled only for CDKTF still bootstraps: through CloudFormation."""
    result = replgen("bootstrap", SPEC, "--out", str(tmp_path / "none"), "--yes")
    assert result.exit_code == 0, result.output
    assert _stack("dbrepl-prod01-bootstrap-333333333333-us-east-1", ACCOUNTS["prod"])
    missing = replgen("deploy", SPEC, "--out", str(tmp_path / "none"), "--yes")
    assert missing.exit_code == 2
    assert "run `replgen compile SPEC --backend cloudformation`" in missing.stderr
