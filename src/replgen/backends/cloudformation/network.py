"""The site's VPC: subnets, route tables, the private network ACL, security groups,
VPC endpoints and flow logs. Peering routes are not here: peering.py owns them."""

from __future__ import annotations

from typing import Any

import troposphere as t
import troposphere.ec2 as ec2

from replgen.backends.cloudformation.context import Ctx, log_group, skipped, tags
from replgen.plan import iam
from replgen.plan.model import AclEntry, SecurityGroup, SgRule, Site, Subnet

# Nothing in a site is retained on delete: a new deployment starts from the spec.
DELETE = {"DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete"}
PROTOCOL = {"all": "-1", "tcp": "6"}
ACTION = {True: "allow", False: "deny"}
DIRECTION = {True: "Egress", False: "Ingress"}
# CloudFormation gives a group without egress rules an allow-all rule; one rule to the
# loopback address replaces it and lets nothing out.
NO_EGRESS = ec2.SecurityGroupRule(
    IpProtocol="-1",
    CidrIp="127.0.0.1/32",
    Description="no outbound traffic: replaces the allow-all rule CloudFormation would add",
)


def render(ctx: Ctx, site: Site) -> None:
    _vpc(ctx, site)
    _subnets(ctx, site)
    _private_routes(ctx, site)
    if site.network.public_subnets:
        _public_routes(ctx, site)
    _acl(ctx, site)
    for group in site.network.security_groups:
        _security_group(ctx, site, group)
    _endpoints(ctx, site)
    _flow_logs(ctx, site)


def _vpc_id(ctx: Ctx, site: Site) -> Any:
    return t.Ref(ctx.lid(site, "Vpc"))


def _vpc(ctx: Ctx, site: Site) -> None:
    ctx.add(
        ec2.VPC(
            ctx.lid(site, "Vpc"),
            CidrBlock=site.network.cidr,
            EnableDnsSupport=True,  # both needed for interface endpoints' private DNS
            EnableDnsHostnames=True,
            Tags=tags(ctx.plan, site.network.vpc_name),
        )
    )


# ---------------------------------------------------------------- subnets and routes


def _subnet_lid(ctx: Ctx, site: Site, subnet: Subnet) -> str:
    kind = "PublicSubnet" if subnet.public else "PrivateSubnet"
    return ctx.lid(site, kind, str(subnet.az_index + 1))


def _subnets(ctx: Ctx, site: Site) -> None:
    for subnet in site.network.private_subnets + site.network.public_subnets:
        ctx.add(
            ec2.Subnet(
                _subnet_lid(ctx, site, subnet),
                VpcId=_vpc_id(ctx, site),
                CidrBlock=subnet.cidr,
                # The nth AZ the account offers: AZ names differ from account to account.
                AvailabilityZone=t.Select(subnet.az_index, t.GetAZs("")),
                MapPublicIpOnLaunch=False,
                Tags=tags(ctx.plan, subnet.name),
            )
        )


def _route_table(ctx: Ctx, site: Site, lid: str, subnets: tuple[Subnet, ...]) -> None:
    ctx.add(ec2.RouteTable(lid, VpcId=_vpc_id(ctx, site), Tags=tags(ctx.plan)))
    for subnet in subnets:
        ctx.add(
            ec2.SubnetRouteTableAssociation(
                f"{_subnet_lid(ctx, site, subnet)}RouteTableAssociation",
                SubnetId=t.Ref(_subnet_lid(ctx, site, subnet)),
                RouteTableId=t.Ref(lid),
            )
        )


def _private_routes(ctx: Ctx, site: Site) -> None:
    # One table for every private subnet: peering routes and gateway endpoints go there once.
    table = ctx.lid(site, "PrivateRouteTable")
    _route_table(ctx, site, table, site.network.private_subnets)
    if site.network.internet_egress:
        _nat(ctx, site, table)


def _nat(ctx: Ctx, site: Site, table: str) -> None:
    nat_subnet = site.network.nat_subnet
    assert nat_subnet is not None  # the plan names it wherever there is egress
    address, nat = ctx.lid(site, "NatAddress"), ctx.lid(site, "NatGateway")
    attachment = ctx.lid(site, "GatewayAttachment")
    ctx.add(ec2.EIP(address, Domain="vpc", Tags=tags(ctx.plan), DependsOn=[attachment]))
    ctx.add(
        ec2.NatGateway(
            nat,
            AllocationId=t.GetAtt(address, "AllocationId"),
            SubnetId=t.Ref(_subnet_lid(ctx, site, nat_subnet)),
            Tags=tags(ctx.plan),
        )
    )
    ctx.add(
        ec2.Route(
            ctx.lid(site, "PrivateDefaultRoute"),
            RouteTableId=t.Ref(table),
            DestinationCidrBlock="0.0.0.0/0",
            NatGatewayId=t.Ref(nat),
        )
    )


def _public_routes(ctx: Ctx, site: Site) -> None:
    gateway, attachment = ctx.lid(site, "InternetGateway"), ctx.lid(site, "GatewayAttachment")
    table = ctx.lid(site, "PublicRouteTable")
    ctx.add(ec2.InternetGateway(gateway, Tags=tags(ctx.plan)))
    ctx.add(
        ec2.VPCGatewayAttachment(
            attachment, VpcId=_vpc_id(ctx, site), InternetGatewayId=t.Ref(gateway)
        )
    )
    _route_table(ctx, site, table, site.network.public_subnets)
    ctx.add(
        ec2.Route(
            ctx.lid(site, "PublicDefaultRoute"),
            RouteTableId=t.Ref(table),
            DestinationCidrBlock="0.0.0.0/0",
            GatewayId=t.Ref(gateway),
            DependsOn=[attachment],  # a route to a detached gateway fails
        )
    )


# ---------------------------------------------------------------- network ACL


def _acl(ctx: Ctx, site: Site) -> None:
    acl = ctx.lid(site, "PrivateNetworkAcl")
    ctx.add(ec2.NetworkAcl(acl, VpcId=_vpc_id(ctx, site), Tags=tags(ctx.plan)))
    for entry in site.network.acl_entries:
        ctx.add(_acl_entry(ctx, site, acl, entry))
    for subnet in site.network.private_subnets:
        ctx.add(
            ec2.SubnetNetworkAclAssociation(
                f"{_subnet_lid(ctx, site, subnet)}NetworkAclAssociation",
                SubnetId=t.Ref(_subnet_lid(ctx, site, subnet)),
                NetworkAclId=t.Ref(acl),
            )
        )


def _acl_entry(ctx: Ctx, site: Site, acl: str, entry: AclEntry) -> ec2.NetworkAclEntry:
    ports: dict[str, Any] = {}
    if entry.protocol == "tcp":  # a port range on "all" is rejected
        ports["PortRange"] = ec2.PortRange(From=entry.from_port, To=entry.to_port)
    return ec2.NetworkAclEntry(
        ctx.lid(site, "PrivateAcl", DIRECTION[entry.egress], str(entry.number)),
        NetworkAclId=t.Ref(acl),
        RuleNumber=entry.number,
        Egress=entry.egress,
        Protocol=PROTOCOL[entry.protocol],
        CidrBlock=entry.cidr,
        RuleAction=ACTION[entry.allow],
        **skipped(entry.waivers, Reason=entry.reason),  # ACL entries have no description field
        **ports,
    )


# ---------------------------------------------------------------- security groups


def _sg_rule(rule: SgRule) -> ec2.SecurityGroupRule:
    # Ingress and egress rules share one shape; CidrIp is the peer either way.
    return ec2.SecurityGroupRule(
        IpProtocol=rule.protocol,
        FromPort=rule.from_port,
        ToPort=rule.to_port,
        CidrIp=rule.cidr,
        Description=rule.description,
    )


def _security_group(ctx: Ctx, site: Site, group: SecurityGroup) -> None:
    egress = [_sg_rule(r) for r in group.egress] or [NO_EGRESS]
    # No ingress rules: nothing may connect in, which needs no property at all.
    ingress = (
        {"SecurityGroupIngress": [_sg_rule(r) for r in group.ingress]} if group.ingress else {}
    )
    ctx.add(
        ec2.SecurityGroup(
            ctx.lid(site, group.role, "SecurityGroup"),
            GroupName=group.name,
            GroupDescription=group.description,
            VpcId=_vpc_id(ctx, site),
            SecurityGroupEgress=egress,
            **ingress,
            Tags=tags(ctx.plan, group.name),
        )
    )


# ---------------------------------------------------------------- endpoints


def _service(name: str) -> Any:
    return t.Sub(f"com.amazonaws.${{AWS::Region}}.{name}")


def _endpoints(ctx: Ctx, site: Site) -> None:
    policy = iam.endpoint_policy(site.network.endpoint_accounts)
    for name in site.network.gateway_endpoints:
        ctx.add(
            ec2.VPCEndpoint(
                ctx.lid(site, name, "Endpoint"),
                VpcId=_vpc_id(ctx, site),
                ServiceName=_service(name),
                VpcEndpointType="Gateway",
                RouteTableIds=[t.Ref(ctx.lid(site, "PrivateRouteTable"))],
                PolicyDocument=policy,
            )
        )
    for name in site.network.interface_endpoints:
        ctx.add(
            ec2.VPCEndpoint(
                ctx.lid(site, name, "Endpoint"),
                VpcId=_vpc_id(ctx, site),
                ServiceName=_service(name),
                VpcEndpointType="Interface",
                SubnetIds=ctx.subnet_ids(site),
                SecurityGroupIds=[ctx.security_group(site, "endpoints")],
                PrivateDnsEnabled=True,
                PolicyDocument=policy,
            )
        )


# ---------------------------------------------------------------- flow logs


def _flow_logs(ctx: Ctx, site: Site) -> None:
    group = site.network.flow_logs
    lid = ctx.lid(site, "FlowLogGroup")
    log_group(ctx, site, lid, group)
    ctx.add(
        ec2.FlowLog(
            ctx.lid(site, "FlowLog"),
            ResourceId=_vpc_id(ctx, site),
            ResourceType="VPC",
            TrafficType="ALL",
            LogDestinationType="cloud-watch-logs",
            LogGroupName=t.Ref(lid),
            DeliverLogsPermissionArn=ctx.role_arn(site, site.network.flow_logs_role),
            Tags=tags(ctx.plan),
        )
    )
