"""The site's VPC: subnets, route tables, the private network ACL, security groups,
VPC endpoints and flow logs. Peering routes are not here: peering.py owns them."""

from __future__ import annotations

from typing import Any

from cdktf import Fn
from cdktf_cdktf_provider_aws.data_aws_availability_zones import DataAwsAvailabilityZones
from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.network_acl import NetworkAcl
from cdktf_cdktf_provider_aws.network_acl_rule import NetworkAclRule
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.security_group import (
    SecurityGroup,
    SecurityGroupEgress,
    SecurityGroupIngress,
)
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from constructs import Construct

from replgen.backends.cdktf.context import Ctx, document, log_group, skip, snake, tags
from replgen.plan import iam
from replgen.plan.model import AclEntry, SgRule, Site
from replgen.plan.model import SecurityGroup as PlanGroup
from replgen.plan.model import Subnet as PlanSubnet

PROTOCOL = {"all": "-1", "tcp": "6"}
ACTION = {True: "allow", False: "deny"}


class Network(Construct):
    def __init__(self, scope: Construct, id: str, ctx: Ctx, site: Site) -> None:
        super().__init__(scope, id)
        self.ctx, self.site = ctx, site
        net = site.network
        self.vpc = Vpc(
            self,
            "vpc",
            cidr_block=net.cidr,
            enable_dns_support=True,  # both needed for interface endpoints' private DNS
            enable_dns_hostnames=True,
            tags=tags(net.vpc_name),
        )
        ctx.put(site, "vpc", "id", self.vpc.id)
        # The nth AZ the account offers: AZ names differ from account to account.
        self.azs = DataAwsAvailabilityZones(self, "azs", state="available")
        ctx.skip_data(self.azs, net.az_waivers)
        # Terraform can take over the VPC's default group: with no rules it admits nothing.
        DefaultSecurityGroup(self, "default_security_group", vpc_id=self.vpc.id)
        private = [self._subnet(s) for s in net.private_subnets]
        public = [self._subnet(s) for s in net.public_subnets]
        ctx.keep(site, "subnets:private", private)
        ctx.keep(site, "subnets:public", public)
        table = self._route_table("private", private)
        ctx.put(site, "private_route_table", "id", table.id)
        if public:
            self._public_routes(public)
        if net.nat_subnet is not None:
            self._nat(table, public[net.public_subnets.index(net.nat_subnet)])
        self._acl(private)
        for group in net.security_groups:
            ctx.keep(site, f"sg:{group.role}", self._security_group(group))
        self._endpoints(table, private)
        self._flow_logs()

    # ------------------------------------------------------------ subnets and routes

    def _subnet(self, subnet: PlanSubnet) -> Subnet:
        kind = "public" if subnet.public else "private"
        return Subnet(
            self,
            f"{kind}_subnet_{subnet.az_index + 1}",
            vpc_id=self.vpc.id,
            cidr_block=subnet.cidr,
            availability_zone=Fn.element(self.azs.names, subnet.az_index),
            map_public_ip_on_launch=False,
            tags=tags(subnet.name),
        )

    def _route_table(self, kind: str, subnets: list[Subnet]) -> RouteTable:
        # One table per kind: peering routes and gateway endpoints go there once.
        table = RouteTable(self, f"{kind}_route_table", vpc_id=self.vpc.id)
        for i, subnet in enumerate(subnets, 1):
            RouteTableAssociation(
                self, f"{kind}_subnet_{i}_routes", subnet_id=subnet.id, route_table_id=table.id
            )
        return table

    def _public_routes(self, public: list[Subnet]) -> None:
        gateway = InternetGateway(self, "internet_gateway", vpc_id=self.vpc.id)
        table = self._route_table("public", public)
        Route(
            self,
            "public_default_route",
            route_table_id=table.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=gateway.id,
        )

    def _nat(self, table: RouteTable, subnet: Subnet) -> None:
        address = Eip(self, "nat_address", domain="vpc")
        nat = NatGateway(
            self, "nat_gateway", allocation_id=address.allocation_id, subnet_id=subnet.id
        )
        Route(
            self,
            "private_default_route",
            route_table_id=table.id,
            destination_cidr_block="0.0.0.0/0",
            nat_gateway_id=nat.id,
        )

    # ------------------------------------------------------------ network ACL

    def _acl(self, private: list[Subnet]) -> None:
        acl = NetworkAcl(
            self, "private_acl", vpc_id=self.vpc.id, subnet_ids=[s.id for s in private]
        )
        for entry in self.site.network.acl_entries:
            self._acl_rule(acl, entry)

    def _acl_rule(self, acl: NetworkAcl, entry: AclEntry) -> None:
        direction = "egress" if entry.egress else "ingress"
        tcp = entry.protocol == "tcp"  # a port range on "all" is meaningless
        rule = NetworkAclRule(
            self,
            f"private_acl_{direction}_{entry.number}",
            network_acl_id=acl.id,
            rule_number=entry.number,
            egress=entry.egress,
            protocol=PROTOCOL[entry.protocol],
            cidr_block=entry.cidr,
            rule_action=ACTION[entry.allow],
            from_port=entry.from_port if tcp else None,
            to_port=entry.to_port if tcp else None,
        )
        rule.add_override("//.reason", entry.reason)  # ACL rules have no description field
        skip(rule, entry.waivers)

    # ------------------------------------------------------------ security groups

    def _security_group(self, group: PlanGroup) -> SecurityGroup:
        # Terraform removes the allow-all egress AWS adds, so no egress rule lets nothing out.
        return SecurityGroup(
            self,
            f"{snake(group.role)}_security_group",
            name=group.name,
            description=group.description,
            vpc_id=self.vpc.id,
            ingress=[SecurityGroupIngress(**_rule(r)) for r in group.ingress],
            egress=[SecurityGroupEgress(**_rule(r)) for r in group.egress],
            tags=tags(group.name),
        )

    # ------------------------------------------------------------ endpoints

    def _endpoints(self, table: RouteTable, private: list[Subnet]) -> None:
        service = f"com.amazonaws.{self.site.region}"
        policy = document(iam.endpoint_policy(self.site.network.endpoint_accounts))
        for name in self.site.network.gateway_endpoints:
            VpcEndpoint(
                self,
                f"{name}_endpoint",
                vpc_id=self.vpc.id,
                service_name=f"{service}.{name}",
                vpc_endpoint_type="Gateway",
                route_table_ids=[table.id],
                policy=policy,
            )
        for name in self.site.network.interface_endpoints:
            VpcEndpoint(
                self,
                f"{name}_endpoint",
                vpc_id=self.vpc.id,
                service_name=f"{service}.{name}",
                vpc_endpoint_type="Interface",
                subnet_ids=[s.id for s in private],
                security_group_ids=[self.ctx.get(self.site, "sg:endpoints").id],
                private_dns_enabled=True,
                policy=policy,
            )

    # ------------------------------------------------------------ flow logs

    def _flow_logs(self) -> None:
        group = self.site.network.flow_logs
        logs = log_group(self, "flow_log_group", self.ctx, group)
        FlowLog(
            self,
            "flow_log",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=logs.arn,
            iam_role_arn=self.ctx.role_arn(self.site, self.site.network.flow_logs_role),
        )


def _rule(rule: SgRule) -> dict[str, Any]:
    return {
        "protocol": rule.protocol,
        "from_port": rule.from_port,
        "to_port": rule.to_port,
        "cidr_blocks": [rule.cidr],
        "description": rule.description,
    }
