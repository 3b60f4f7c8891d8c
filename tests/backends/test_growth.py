"""Growing a topology: adding an environment leaves everything that exists byte-identical on
both backends, and removing one touches only what belonged to it.

The session compiles the four-environment spec and the same with a fifth environment, `uat`
(same account as dev/qa/staging, peered with staging; `outputs.VARIANTS`): both directions
of the test read those two outputs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from outputs import UAT_CIDR

# What must never change under an existing deployment when another environment comes or goes.
CFN_STABLE = {
    "AWS::EC2::VPC",
    "AWS::EC2::Subnet",
    "AWS::EC2::NetworkAcl",
    "AWS::EC2::NetworkAclEntry",
    "AWS::EC2::RouteTable",
    "AWS::EC2::Route",
    "AWS::EC2::VPCPeeringConnection",
    "AWS::RDS::DBCluster",
    "AWS::RDS::DBInstance",
    "AWS::RDS::DBSubnetGroup",
    "AWS::KMS::Key",
    "AWS::S3::Bucket",
}
TF_STABLE = {
    "aws_vpc",
    "aws_subnet",
    "aws_network_acl",
    "aws_network_acl_rule",
    "aws_route_table",
    "aws_route",
    "aws_vpc_peering_connection",
    "aws_vpc_peering_connection_accepter",
    "aws_rds_cluster",
    "aws_rds_cluster_instance",
    "aws_db_subnet_group",
    "aws_kms_key",
    "aws_s3_bucket",
}


@pytest.fixture(scope="module")
def five(both: dict[str, Path]) -> Path:
    return both["five-envs"]


def cfn(out: Path) -> dict[tuple[str, str], Any]:
    found = {}
    for path in sorted((out / "cloudformation").glob("*.json")):
        for lid, resource in json.loads(path.read_text()).get("Resources", {}).items():
            if resource["Type"] in CFN_STABLE:
                found[(path.name, lid)] = resource
    return found


def terraform(out: Path) -> dict[tuple[str, str], Any]:
    found = {}
    for path in sorted((out / "cdktf" / "stacks").glob("*/cdk.tf.json")):
        for kind, items in json.loads(path.read_text()).get("resource", {}).items():
            if kind in TF_STABLE:
                for address, resource in items.items():
                    found[(path.parent.name, f"{kind}.{address}")] = resource
    return found


def belongs_to_uat(where: tuple[str, str], resource: Any) -> bool:
    text = json.dumps([where, resource])
    return "uat" in text or UAT_CIDR.rsplit(".", 2)[0] in text


@pytest.mark.parametrize("read", [cfn, terraform], ids=["cloudformation", "cdktf"])
def test_adding_an_environment_changes_nothing_that_exists(
    both: dict[str, Path], five: Path, read: Any
) -> None:
    before, after = read(both["four-envs"]), read(five)
    assert len(before) > 100
    changed = [k for k, v in before.items() if after.get(k) != v]
    assert changed == []
    added = [k for k in after if k not in before]
    assert added  # uat's VPC, cluster, peering, and staging's entries for it


@pytest.mark.parametrize("read", [cfn, terraform], ids=["cloudformation", "cdktf"])
def test_removing_an_environment_touches_only_what_belonged_to_it(
    both: dict[str, Path], five: Path, read: Any
) -> None:
    before, after = read(five), read(both["four-envs"])
    removed = {k: v for k, v in before.items() if k not in after}
    assert removed and all(belongs_to_uat(k, v) for k, v in removed.items())
    assert [k for k, v in after.items() if before.get(k) != v] == []


def test_terraform_stacks_keep_their_names(both: dict[str, Path], five: Path) -> None:
    names = {p.name for p in (both["four-envs"] / "cdktf" / "stacks").iterdir()}
    grown = {p.name for p in (five / "cdktf" / "stacks").iterdir()}
    assert "ledger-t4-nonprod-eu-west-1" in names
    assert grown - names == {"ledger-t4-peering-staging-uat"}
    assert names <= grown
