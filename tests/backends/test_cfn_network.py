"""CloudFormation: keys, roles, network and peering, as built from the plan.

Every expected value below is read from the plan or written out literally from
specs/prod.yaml, so a test fails when a renderer drops, invents or bends a value.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import replace
from typing import Any

import pytest
import troposphere as t
from cfn_templates import (
    ARTIFACTS,
    ROOT,
    Template,
    getatt,
    of_type,
    plan_of,
    props,
    ref,
    render,
    res,
    tag,
)

from replgen.backends import Options
from replgen.backends.cloudformation import BACKEND, COMPONENTS, keys, network, peering, roles
from replgen.backends.cloudformation.context import Ctx
from replgen.plan.build import build
from replgen.plan.model import Plan
from replgen.plan.network import INTERFACE_ENDPOINTS
from replgen.spec.load import load, validate
from replgen.spec.source import parse

GETAZS = {"Fn::GetAZs": ""}
STATEFUL_DELETE = {"DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete"}


@pytest.fixture(scope="module")
def plan() -> Plan:
    return plan_of("specs/prod.yaml")


@pytest.fixture(scope="module")
def out(plan: Plan) -> dict[str, Template]:
    return render(plan)


# ---------------------------------------------------------------- VPC, subnets, routes

CIDRS = {"dev": "10.1.0.0/16", "staging": "10.2.0.0/16", "prod": "10.3.0.0/16"}


@pytest.mark.parametrize("site", sorted(CIDRS))
def test_vpc_has_the_site_cidr_dns_and_name(out: dict[str, Template], site: str) -> None:
    vpc = props(out[f"{site}.json"], "Vpc")
    assert vpc["CidrBlock"] == CIDRS[site]
    assert vpc["EnableDnsSupport"] is True and vpc["EnableDnsHostnames"] is True
    assert tag(vpc, "Name") == f"dbrepl-prod01-{site}-vpc"


@pytest.mark.parametrize("site", sorted(CIDRS))
def test_one_private_subnet_per_az_chosen_by_index(out: dict[str, Template], site: str) -> None:
    template = out[f"{site}.json"]
    subnets = of_type(template, "AWS::EC2::Subnet")
    assert sorted(subnets) == ["PrivateSubnet1", "PrivateSubnet2"]  # azs: 2, no public tier
    halves = [str(n) for n in ipaddress.ip_network(CIDRS[site]).subnets(prefixlen_diff=1)]
    for i, half in enumerate(halves):
        subnet = props(template, f"PrivateSubnet{i + 1}")
        assert subnet["CidrBlock"] == half
        assert subnet["AvailabilityZone"] == {"Fn::Select": [i, GETAZS]}
        assert subnet["MapPublicIpOnLaunch"] is False
        assert tag(subnet, "Name") == f"dbrepl-prod01-{site}-private-{i + 1}"


def test_no_availability_zone_name_is_hard_coded(out: dict[str, Template]) -> None:
    for name, template in out.items():
        for subnet in of_type(template, "AWS::EC2::Subnet").values():
            assert isinstance(subnet["Properties"]["AvailabilityZone"], dict), name
        assert not re.search(r'"[a-z]{2}(-[a-z]+)+-\d[a-z]"', json.dumps(template)), name


@pytest.mark.parametrize("site", sorted(CIDRS))
def test_one_private_route_table_serves_every_private_subnet(
    out: dict[str, Template], site: str
) -> None:
    template = out[f"{site}.json"]
    assert list(of_type(template, "AWS::EC2::RouteTable")) == ["PrivateRouteTable"]
    associations = of_type(template, "AWS::EC2::SubnetRouteTableAssociation").values()
    pairs = {
        (a["Properties"]["SubnetId"]["Ref"], a["Properties"]["RouteTableId"]["Ref"])
        for a in associations
    }
    assert pairs == {
        ("PrivateSubnet1", "PrivateRouteTable"),
        ("PrivateSubnet2", "PrivateRouteTable"),
    }
    assert not of_type(template, "AWS::EC2::InternetGateway")  # nothing public in prod.yaml


def test_site_templates_hold_no_peering_route(out: dict[str, Template]) -> None:
    # Peering routes belong to the peering stacks, which run after the connection exists.
    for site in CIDRS:
        assert not of_type(out[f"{site}.json"], "AWS::EC2::Route")


# ---------------------------------------------------------------- network ACL


def acl_rows(template: Template) -> set[tuple[Any, ...]]:
    rows = set()
    for entry in of_type(template, "AWS::EC2::NetworkAclEntry").values():
        p = entry["Properties"]
        assert p["NetworkAclId"] == ref("PrivateNetworkAcl")
        ports = (p["PortRange"]["From"], p["PortRange"]["To"]) if "PortRange" in p else None
        rows.add(
            (p["RuleNumber"], p["Egress"], p["Protocol"], ports, p["CidrBlock"], p["RuleAction"])
        )
    return rows


@pytest.mark.parametrize("site", sorted(CIDRS))
def test_acl_entries_are_exactly_the_plan(plan: Plan, out: dict[str, Template], site: str) -> None:
    expected = {
        (
            e.number,
            e.egress,
            {"tcp": "6", "all": "-1"}[e.protocol],
            (e.from_port, e.to_port) if e.protocol == "tcp" else None,
            e.cidr,
            "allow" if e.allow else "deny",
        )
        for e in plan.site(site).network.acl_entries
    }
    assert acl_rows(out[f"{site}.json"]) == expected


def test_dev_acl_admits_only_the_database_port_from_staging(out: dict[str, Template]) -> None:
    staging_subnets = {"10.2.0.0/17", "10.2.128.0/17"}
    rows = acl_rows(out["dev.json"])
    inbound_from_staging = {
        r for r in rows if not r[1] and r[5] == "allow" and r[4] in staging_subnets
    }
    assert {(r[2], r[3]) for r in inbound_from_staging} == {("6", (3306, 3306))}
    # ...and everything else from the peer VPC is denied, both ways, after the allows.
    denies = {r for r in rows if r[5] == "deny"}
    ((number, _, _, _, _, _),) = {r for r in denies if not r[1]}
    assert denies == {
        (number, False, "-1", None, "10.2.0.0/16", "deny"),
        (number, True, "-1", None, "10.2.0.0/16", "deny"),
    }
    assert all(r[0] < number for r in rows if r[5] == "allow")
    # dev hosts no functions: nothing at all to or from the internet.
    assert not {r for r in rows if r[4] == "0.0.0.0/0"}


def test_staging_acl_sends_the_database_port_to_both_peers(out: dict[str, Template]) -> None:
    rows = acl_rows(out["staging.json"])
    out_to_peers = {r[4] for r in rows if r[1] and r[5] == "allow" and r[3] == (3306, 3306)}
    assert out_to_peers == {"10.1.0.0/17", "10.1.128.0/17", "10.3.0.0/17", "10.3.128.0/17"}
    # Replies from S3 skip 3389 so no ACL admits RDP from the internet.
    internet_in = {r[3] for r in rows if not r[1] and r[4] == "0.0.0.0/0"}
    assert internet_in == {(1024, 3388), (3390, 65535)}


@pytest.mark.parametrize("site", sorted(CIDRS))
def test_acl_guards_every_private_subnet(out: dict[str, Template], site: str) -> None:
    associations = of_type(out[f"{site}.json"], "AWS::EC2::SubnetNetworkAclAssociation").values()
    assert {
        (a["Properties"]["SubnetId"]["Ref"], a["Properties"]["NetworkAclId"]["Ref"])
        for a in associations
    } == {
        ("PrivateSubnet1", "PrivateNetworkAcl"),
        ("PrivateSubnet2", "PrivateNetworkAcl"),
    }


# ---------------------------------------------------------------- security groups

NO_EGRESS = {"CidrIp": "127.0.0.1/32", "IpProtocol": "-1"}


def rules(group: dict[str, Any], key: str) -> list[tuple[Any, ...]]:
    return [
        (r["IpProtocol"], r.get("FromPort"), r.get("ToPort"), r["CidrIp"], r["Description"])
        for r in group.get(key, [])
    ]


def test_dev_database_group_admits_only_staging_on_3306(out: dict[str, Template]) -> None:
    group = props(out["dev.json"], "DatabaseSecurityGroup")
    assert group["GroupName"] == "dbrepl-prod01-dev-database"
    assert group["VpcId"] == ref("Vpc")
    assert rules(group, "SecurityGroupIngress") == [
        ("tcp", 3306, 3306, "10.2.0.0/17", "database clients in staging"),
        ("tcp", 3306, 3306, "10.2.128.0/17", "database clients in staging"),
    ]
    # No egress in the plan: the loopback rule replaces CloudFormation's allow-all default.
    [egress] = group["SecurityGroupEgress"]
    assert {k: egress[k] for k in NO_EGRESS} == NO_EGRESS and egress["Description"]


def test_staging_groups_match_the_plan(plan: Plan, out: dict[str, Template]) -> None:
    template = out["staging.json"]
    for group in plan.site("staging").network.security_groups:
        rendered = props(template, f"{group.role.capitalize()}SecurityGroup")
        assert rendered["GroupName"] == group.name
        assert rendered["GroupDescription"] == group.description
        assert rules(rendered, "SecurityGroupIngress") == [
            (r.protocol, r.from_port, r.to_port, r.cidr, r.description) for r in group.ingress
        ]
        expected_egress = [
            (r.protocol, r.from_port, r.to_port, r.cidr, r.description) for r in group.egress
        ]
        if expected_egress:
            assert rules(rendered, "SecurityGroupEgress") == expected_egress
        else:
            assert [(e["CidrIp"], e["IpProtocol"]) for e in rendered["SecurityGroupEgress"]] == [
                ("127.0.0.1/32", "-1")
            ]
    functions = props(template, "FunctionsSecurityGroup")
    assert "SecurityGroupIngress" not in functions  # nothing connects to the functions
    endpoints = props(template, "EndpointsSecurityGroup")
    assert rules(endpoints, "SecurityGroupIngress") == [
        ("tcp", 443, 443, "10.2.0.0/16", "HTTPS from inside the VPC")
    ]


# ---------------------------------------------------------------- endpoints and flow logs


@pytest.mark.parametrize("site", sorted(CIDRS))
def test_s3_gateway_endpoint_on_the_private_route_table(
    out: dict[str, Template], site: str
) -> None:
    s3 = props(out[f"{site}.json"], "S3Endpoint")
    assert s3["VpcEndpointType"] == "Gateway"
    assert s3["ServiceName"] == {"Fn::Sub": "com.amazonaws.${AWS::Region}.s3"}
    assert s3["RouteTableIds"] == [ref("PrivateRouteTable")]


# Written out literally: every endpoint admits the topology's accounts and nothing else.
TOPOLOGY_ONLY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "TopologyAccountsOnly",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "*",
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "aws:PrincipalAccount": ["111111111111", "222222222222", "333333333333"]
                },
                "StringEqualsIfExists": {
                    "aws:ResourceAccount": ["111111111111", "222222222222", "333333333333"]
                },
            },
        }
    ],
}


def test_every_endpoint_has_the_topology_policy(out: dict[str, Template]) -> None:
    endpoints = [
        e["Properties"] for t in out.values() for e in of_type(t, "AWS::EC2::VPCEndpoint").values()
    ]
    assert len(endpoints) == 3 + len(INTERFACE_ENDPOINTS)  # S3 per site, the rest in staging
    assert all(e["PolicyDocument"] == TOPOLOGY_ONLY for e in endpoints)


def test_interface_endpoints_only_where_the_functions_run(out: dict[str, Template]) -> None:
    for site in ("dev", "prod"):
        endpoints = of_type(out[f"{site}.json"], "AWS::EC2::VPCEndpoint")
        assert list(endpoints) == ["S3Endpoint"]
    template = out["staging.json"]
    interface = {
        k: v["Properties"]
        for k, v in of_type(template, "AWS::EC2::VPCEndpoint").items()
        if v["Properties"]["VpcEndpointType"] == "Interface"
    }
    assert {p["ServiceName"]["Fn::Sub"].rsplit(".", 1)[1] for p in interface.values()} == set(
        INTERFACE_ENDPOINTS
    )
    for p in interface.values():
        assert p["PrivateDnsEnabled"] is True
        assert p["SubnetIds"] == [ref("PrivateSubnet1"), ref("PrivateSubnet2")]
        assert p["SecurityGroupIds"] == [getatt("EndpointsSecurityGroup", "GroupId")]
        assert p["ServiceName"]["Fn::Sub"].startswith("com.amazonaws.${AWS::Region}.")


@pytest.mark.parametrize("site", sorted(CIDRS))
def test_flow_logs_capture_all_traffic_into_an_encrypted_group(
    out: dict[str, Template], site: str
) -> None:
    template = out[f"{site}.json"]
    group = res(template, "FlowLogGroup")
    assert {k: group[k] for k in STATEFUL_DELETE} == STATEFUL_DELETE
    assert group["Properties"]["LogGroupName"] == f"/replgen/dbrepl-prod01/{site}/flow-logs"
    assert group["Properties"]["RetentionInDays"] == 90
    assert group["Properties"]["KmsKeyId"] == getatt("Key", "Arn")
    log = props(template, "FlowLog")
    assert log["ResourceId"] == ref("Vpc") and log["ResourceType"] == "VPC"
    assert log["TrafficType"] == "ALL"
    assert log["LogDestinationType"] == "cloud-watch-logs"
    assert log["LogGroupName"] == ref("FlowLogGroup")
    assert log["DeliverLogsPermissionArn"] == getatt("FlowlogsRole", "Arn")


# ---------------------------------------------------------------- the key


ACCOUNTS = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}


def key_statements(template: Template) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in props(template, "Key")["KeyPolicy"]["Statement"]}


@pytest.mark.parametrize("site", sorted(CIDRS))
def test_key_rotates_and_is_aliased(out: dict[str, Template], site: str) -> None:
    template = out[f"{site}.json"]
    key = res(template, "Key")
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["Properties"]["PendingWindowInDays"] == 7
    assert {k: key[k] for k in STATEFUL_DELETE} == STATEFUL_DELETE
    alias = props(template, "KeyAlias")
    assert alias == {"AliasName": f"alias/dbrepl-prod01-{site}", "TargetKeyId": ref("Key")}


@pytest.mark.parametrize("site", sorted(CIDRS))
def test_key_policy_principals(plan: Plan, out: dict[str, Template], site: str) -> None:
    statements = key_statements(out[f"{site}.json"])
    principals = [s["Principal"] for s in statements.values()]
    assert {"AWS": [f"arn:aws:iam::{ACCOUNTS[site]}:root"]} in principals
    root = next(s for s in statements.values() if "AWS" in s["Principal"])
    assert root["Action"] == ["kms:*"]  # the account delegates to IAM
    # One statement per service, each only for this account's own alarms, rules, topics.
    for service in ("cloudwatch", "events", "sns"):
        statement = statements[f"{service.capitalize()}OfTheSite"]
        assert statement["Principal"] == {"Service": [f"{service}.amazonaws.com"]}
        assert "kms:*" not in statement["Action"]
        assert "kms:GenerateDataKey*" in statement["Action"]
        assert statement["Condition"] == {
            "StringEquals": {"aws:SourceAccount": [ACCOUNTS[site]]},
            "ArnLike": {"aws:SourceArn": [f"arn:aws:{service}:us-east-1:{ACCOUNTS[site]}:*"]},
        }
    logs = statements["CloudWatchLogsForTheSiteLogGroups"]
    assert logs["Principal"] == {"Service": ["logs.us-east-1.amazonaws.com"]}
    arns = logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert arns == list(plan.site(site).key.log_group_arns)
    assert (
        f"arn:aws:logs:us-east-1:{ACCOUNTS[site]}:log-group:/replgen/dbrepl-prod01/{site}/flow-logs"
        in arns
    )


def test_staging_key_admits_the_sync_log_groups(out: dict[str, Template]) -> None:
    logs = key_statements(out["staging.json"])["CloudWatchLogsForTheSiteLogGroups"]
    arns = logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert (
        "arn:aws:logs:us-east-1:222222222222:log-group:/aws/lambda/dbrepl-prod01-staging-replsync"
        in arns
    )
    # flow logs, the parameter writer, replsync, its bootstrap, the state machine, the
    # invoker, the emptier
    assert len(arns) == 7
    assert any(a.endswith("/staging/parameter-writer") for a in arns)
    assert any(a.endswith("/staging/invoker") for a in arns)
    assert any(a.endswith("/staging/emptier") for a in arns)
    assert any(a.endswith("-staging-replsync-boot") for a in arns)


def site_ctx(plan: Plan) -> Ctx:
    return Ctx(plan, t.Template(), False, lambda r: f"stack-{r.site}")


def test_an_existing_key_is_used_not_created(plan: Plan) -> None:
    external = "arn:aws:kms:us-east-1:111111111111:key/00000000-0000-0000-0000-000000000000"
    dev = plan.site("dev")
    site = replace(dev, key=replace(dev.key, external_arn=external))
    ctx = site_ctx(replace(plan, sites=(site,), peerings=()))
    keys.render(ctx, site)
    network.render(ctx, site)
    template = ctx.template.to_dict()
    assert not of_type(template, "AWS::KMS::Key") and not of_type(template, "AWS::KMS::Alias")
    assert props(template, "FlowLogGroup")["KmsKeyId"] == external


# ---------------------------------------------------------------- roles


def test_every_plan_role_is_rendered_with_its_exact_name(
    plan: Plan, out: dict[str, Template]
) -> None:
    lids = {
        "dev": ["FlowlogsRole", "MonitoringRole", "ReplsyncAccessRole", "ReplsyncMasterRole"],
        "staging": [
            "FlowlogsRole",
            "MonitoringRole",
            "ReplsyncAccessRole",
            "ReplsyncMasterRole",
            "ReplsyncRole",
            "ReplsyncBootRole",
            "ReplsyncStatesRole",
            "ReplsyncScheduleRole",
            "AcceptDevStagingRole",
        ],
        "prod": [
            "FlowlogsRole",
            "MonitoringRole",
            "ReplsyncAccessRole",
            "ReplsyncMasterRole",
            "AcceptStagingProdRole",
        ],
    }
    for site in plan.sites:
        template = out[f"{site.slug}.json"]
        assert len(site.roles) == len(lids[site.id])
        for role, lid in zip(site.roles, lids[site.id], strict=True):
            assert res(template, lid)["Type"] == "AWS::IAM::Role"
            assert props(template, lid)["RoleName"] == role.name
            # The plan's ARN is exactly the one IAM gives a role of this name in this account.
            assert role.arn == f"arn:aws:iam::{site.account_id}:role/{role.name}"


def test_roles_render_before_the_components_that_read_their_arns() -> None:
    assert COMPONENTS[0] is roles.render


def test_flow_logs_role_trusts_the_service_and_writes_only_its_group(
    out: dict[str, Template],
) -> None:
    role = props(out["dev.json"], "FlowlogsRole")
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": ["vpc-flow-logs.amazonaws.com"]}
    [policy] = role["Policies"]
    [statement] = policy["PolicyDocument"]["Statement"]
    group = "arn:aws:logs:us-east-1:111111111111:log-group:/replgen/dbrepl-prod01/dev/flow-logs"
    assert statement["Resource"] == [group, f"{group}:*"]
    assert "Metadata" not in res(out["dev.json"], "FlowlogsRole")


def test_monitoring_role_has_only_the_managed_policy(out: dict[str, Template]) -> None:
    role = props(out["prod.json"], "MonitoringRole")
    assert role["ManagedPolicyArns"] == [
        "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
    ]
    assert "Policies" not in role


@pytest.mark.parametrize("site", ["dev", "prod"])
def test_access_roles_trust_exactly_the_sync_role(out: dict[str, Template], site: str) -> None:
    resource = res(out[f"{site}.json"], "ReplsyncAccessRole")
    [trust] = resource["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"AWS": ["arn:aws:iam::222222222222:root"]}
    assert trust["Condition"] == {
        "ArnEquals": {
            "aws:PrincipalArn": ["arn:aws:iam::222222222222:role/dbrepl-prod01-staging-replsync"]
        }
    }
    [check] = resource["Metadata"]["checkov"]["skip"]
    assert check["id"] == "CKV_AWS_61" and "aws:PrincipalArn" in check["comment"]


def test_accept_role_trusts_only_the_requesters_deploy_role(
    out: dict[str, Template],
) -> None:
    resource = res(out["staging.json"], "AcceptDevStagingRole")
    [trust] = resource["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"AWS": ["arn:aws:iam::111111111111:root"]}
    assert trust["Condition"] == {
        "ArnEquals": {"aws:PrincipalArn": ["arn:aws:iam::111111111111:role/replgen-deploy"]}
    }
    [statement] = resource["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert statement["Action"] == ["ec2:AcceptVpcPeeringConnection"]
    assert statement["Condition"] == {
        "ArnEquals": {
            "ec2:AccepterVpc": [{"Fn::Sub": "arn:aws:ec2:us-east-1:222222222222:vpc/${Vpc}"}]
        },
        "ArnLike": {"ec2:RequesterVpc": ["arn:aws:ec2:us-east-1:111111111111:vpc/*"]},
    }
    assert resource["Metadata"]["checkov"]["skip"][0]["id"] == "CKV_AWS_61"


def test_sync_role_statements_are_the_plan_statements(plan: Plan, out: dict[str, Template]) -> None:
    role = next(r for r in plan.site("staging").roles if r.key == "role:replsync")
    rendered = props(out["staging.json"], "ReplsyncRole")["Policies"][0]["PolicyDocument"][
        "Statement"
    ]
    assert [s["Sid"] for s in rendered] == [s.sid for s in role.statements]
    for statement, expected in zip(rendered, role.statements, strict=True):
        assert statement["Action"] == list(expected.actions)
        if expected.reason:  # "*" only where the service allows nothing narrower
            assert statement["Resource"] == ["*"]
    vpc_scoped = next(s for s in rendered if s["Sid"] == "NetworkInterfacesInOwnVpc")
    assert list(vpc_scoped["Condition"]["ArnEquals"]) == ["ec2:Vpc"]


# ---------------------------------------------------------------- peering (stacks layout)


def test_requester_names_the_accepter_owner_and_role(out: dict[str, Template]) -> None:
    template = out["peering-dev-staging.json"]
    connection = props(template, "PeeringConnection")
    assert connection["VpcId"] == ref("DevVpcId")
    assert connection["PeerVpcId"] == ref("StagingVpcId")
    assert connection["PeerOwnerId"] == "222222222222"
    assert (
        connection["PeerRoleArn"]
        == "arn:aws:iam::222222222222:role/dbrepl-prod01-staging-accept-dev"
    )
    assert "PeerRegion" not in connection  # both in us-east-1
    assert tag(connection, "Name") == "dbrepl-prod01-dev-staging"
    [route] = of_type(template, "AWS::EC2::Route").values()
    assert route["Properties"] == {
        "RouteTableId": ref("DevPrivateRouteTableId"),
        "DestinationCidrBlock": "10.2.0.0/16",
        "VpcPeeringConnectionId": ref("PeeringConnection"),
    }
    assert template["Outputs"]["PeeringConnectionId"]["Value"] == ref("PeeringConnection")


def test_peer_role_arn_is_the_role_the_accepter_site_creates(
    plan: Plan, out: dict[str, Template]
) -> None:
    for p in plan.peerings:
        connection = props(out[f"peering-{p.id}.json"], "PeeringConnection")
        accept = next(r for r in plan.site(p.accepter).roles if r.key == f"role:accept:{p.id}")
        assert connection["PeerRoleArn"] == accept.arn
        roles_there = of_type(out[f"{p.accepter}.json"], "AWS::IAM::Role").values()
        assert accept.name in {v["Properties"].get("RoleName") for v in roles_there}


def test_accepter_routes_back_through_the_requested_connection(out: dict[str, Template]) -> None:
    template = out["peering-staging-prod-accept.json"]
    assert template["Parameters"]["PeeringConnectionId"]["Type"] == "String"
    assert not of_type(template, "AWS::EC2::VPCPeeringConnection")
    [route] = of_type(template, "AWS::EC2::Route").values()
    assert route["Properties"] == {
        "RouteTableId": ref("ProdPrivateRouteTableId"),
        "DestinationCidrBlock": "10.2.0.0/16",
        "VpcPeeringConnectionId": ref("PeeringConnectionId"),
    }


def test_routes_go_both_ways_across_each_peering(plan: Plan, out: dict[str, Template]) -> None:
    for p in plan.peerings:
        forward = of_type(out[f"peering-{p.id}.json"], "AWS::EC2::Route")
        back = of_type(out[f"peering-{p.id}-accept.json"], "AWS::EC2::Route")
        assert [r["Properties"]["DestinationCidrBlock"] for r in forward.values()] == [
            p.accepter_cidr
        ]
        assert [r["Properties"]["DestinationCidrBlock"] for r in back.values()] == [
            p.requester_cidr
        ]


def stack(manifest: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in manifest["stacks"] if s["name"] == name)  # type: ignore[no-any-return]


def test_manifest_wires_the_peering_stacks(out: dict[str, Template]) -> None:
    manifest = out["manifest.json"]
    request = stack(manifest, "dbrepl-prod01-peering-dev-staging")
    assert (request["account"], request["region"]) == ("111111111111", "us-east-1")
    assert request["inputs"] == {
        "DevPrivateRouteTableId": {"stack": "dbrepl-prod01-dev", "output": "PrivateRouteTableId"},
        "DevVpcId": {"stack": "dbrepl-prod01-dev", "output": "VpcId"},
        "StagingVpcId": {"stack": "dbrepl-prod01-staging", "output": "VpcId"},
    }
    accept = stack(manifest, "dbrepl-prod01-peering-dev-staging-accept")
    assert (accept["account"], accept["region"]) == ("222222222222", "us-east-1")
    assert accept["inputs"] == {
        "PeeringConnectionId": {
            "stack": "dbrepl-prod01-peering-dev-staging",
            "output": "PeeringConnectionId",
        },
        "StagingPrivateRouteTableId": {
            "stack": "dbrepl-prod01-staging",
            "output": "PrivateRouteTableId",
        },
    }
    order = [s["name"] for s in manifest["stacks"]]
    assert order.index(request["name"]) < order.index(accept["name"])
    # Every output the peering stacks read is one the site stacks export.
    for s in (request, accept):
        for source in s["inputs"].values():
            producer = next(x for x in manifest["stacks"] if x["name"] == source["stack"])
            assert source["output"] in out[producer["template"]]["Outputs"]


def test_rendering_is_deterministic(plan: Plan, out: dict[str, Template]) -> None:
    again = BACKEND.render(plan, Options())
    assert {k: json.loads(v) for k, v in again.items()} == out
    assert again == BACKEND.render(plan, Options())


# ---------------------------------------------------------------- other shapes (renderers alone)


def dr_plan() -> Plan:
    return build(load(ROOT / "specs" / "dr.yaml").spec, ARTIFACTS)


def test_cross_region_peering_names_the_region_but_no_owner() -> None:
    plan = dr_plan()
    [p] = plan.peerings
    ctx = site_ctx(plan)
    peering.render_requester(ctx, p)
    connection = props(ctx.template.to_dict(), "PeeringConnection")
    assert connection["PeerRegion"] == "us-east-2"
    assert "PeerOwnerId" not in connection and "PeerRoleArn" not in connection


def test_public_subnets_get_their_own_route_table_and_gateway() -> None:
    plan = dr_plan()
    site = plan.sites[0]
    ctx = site_ctx(plan)
    network.render(ctx, site)
    template = ctx.template.to_dict()
    assert len(site.network.public_subnets) == 3
    for subnet in site.network.public_subnets:
        lid = f"PublicSubnet{subnet.az_index + 1}"
        assert props(template, lid)["CidrBlock"] == subnet.cidr
        assert props(template, lid)["MapPublicIpOnLaunch"] is False
        assert props(template, f"{lid}RouteTableAssociation")["RouteTableId"] == ref(
            "PublicRouteTable"
        )
    default = res(template, "PublicDefaultRoute")
    assert default["Properties"]["GatewayId"] == ref("InternetGateway")
    assert default["DependsOn"] == ["GatewayAttachment"]
    # Public subnets stay outside the private ACL.
    acl = of_type(template, "AWS::EC2::SubnetNetworkAclAssociation").values()
    assert {a["Properties"]["SubnetId"]["Ref"] for a in acl} == {
        "PrivateSubnet1",
        "PrivateSubnet2",
        "PrivateSubnet3",
    }


# ---------------------------------------------------------------- single layout

SINGLE = """
replgen: 1
name: onebox
suffix: t1
region: eu-west-1
accounts: {main: "444455556666"}
defaults:
  database:
    engine: aurora-mysql
    engine_version: "5.7.mysql_aurora.2.12.4"
    instance_class: db.r5.large
    instances: 1
    backup_retention_days: 7
    database_name: appdb
  network: {azs: 3}
environments:
  dev: {account: main, cidr: 10.11.0.0/16}
  staging: {account: main, cidr: 10.12.0.0/16}
peering:
  - [dev, staging]
sync:
  runs_in: staging
  schedule: rate(1 hour)
  schema: {promote: [dev, staging]}
notifications: {emails: [ops@example.com]}
"""


@pytest.fixture(scope="module")
def single_plan() -> Plan:
    data, source = parse(SINGLE, "single.yaml")
    return build(validate(data, source).spec, ARTIFACTS)


@pytest.fixture(scope="module")
def single(single_plan: Plan) -> Template:
    files = render(single_plan, "single")
    assert list(files) == ["onebox.json"]
    return files["onebox.json"]


def test_single_layout_peers_locally_with_routes_both_ways(single: Template) -> None:
    connection = props(single, "DevStagingPeeringConnection")
    assert connection["VpcId"] == ref("DevVpc")
    assert connection["PeerVpcId"] == ref("StagingVpc")
    for absent in ("PeerOwnerId", "PeerRoleArn", "PeerRegion"):
        assert absent not in connection
    routes = {
        (r["Properties"]["RouteTableId"]["Ref"], r["Properties"]["DestinationCidrBlock"])
        for r in of_type(single, "AWS::EC2::Route").values()
        if r["Properties"].get("VpcPeeringConnectionId") == ref("DevStagingPeeringConnection")
    }
    assert routes == {
        ("DevPrivateRouteTable", "10.12.0.0/16"),
        ("StagingPrivateRouteTable", "10.11.0.0/16"),
    }
    assert not any(p.endswith(("VpcId", "RouteTableId")) for p in single.get("Parameters", {}))


def test_single_layout_prefixes_every_site_resource(single: Template, single_plan: Plan) -> None:
    for site in single_plan.sites:
        prefix = site.slug.capitalize()
        assert props(single, f"{prefix}Vpc")["CidrBlock"] == site.network.cidr
        for i in (1, 2, 3):
            subnet = props(single, f"{prefix}PrivateSubnet{i}")
            assert subnet["AvailabilityZone"] == {"Fn::Select": [i - 1, GETAZS]}
            assert subnet["VpcId"] == ref(f"{prefix}Vpc")
        assert props(single, f"{prefix}FlowLogGroup")["KmsKeyId"] == getatt(f"{prefix}Key", "Arn")
        assert props(single, f"{prefix}FlowLog")["DeliverLogsPermissionArn"] == getatt(
            f"{prefix}FlowlogsRole", "Arn"
        )
        root = key_statements_single(single, f"{prefix}Key")
        assert {"AWS": ["arn:aws:iam::444455556666:root"]} in root
    # No accept role: one account needs none.
    assert not [k for k in of_type(single, "AWS::IAM::Role") if "Accept" in k]


def key_statements_single(template: Template, lid: str) -> list[Any]:
    return [s["Principal"] for s in props(template, lid)["KeyPolicy"]["Statement"]]
