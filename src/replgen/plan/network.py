"""Carving a site's CIDR into subnets and deciding exactly what may cross each peering."""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass

from replgen.plan.model import AclEntry, SecurityGroup, SgRule, Subnet

INTERFACE_ENDPOINTS = ("secretsmanager", "ssm", "kms", "logs", "monitoring", "sns", "sts")
EPHEMERAL = (1024, 65535)
# Where an mTLS API also answers /health without client certificates, for Route 53.
HEALTH_PORT = 8443


def health_port(auth: str | None) -> int:
    """The port Route 53 checks an API's /health on: its own where mutual TLS would refuse
    checkers that carry no client certificate."""
    return HEALTH_PORT if auth == "mtls" else 443


# Return traffic from S3 (through the gateway endpoint) arrives from S3's public
# addresses on ephemeral ports; RDP's 3389 is carved out so no ACL admits it.
S3_RETURN = ((1024, 3388), (3390, 65535))


def carve(
    cidr: str, azs: int, public: bool, slug: str, prefix: str
) -> tuple[tuple[Subnet, ...], tuple[Subnet, ...]]:
    """Equal subnets: private ones first (one per AZ), then public ones."""
    net = ipaddress.IPv4Network(cidr)
    count = azs * (2 if public else 1)
    blocks = list(net.subnets(prefixlen_diff=math.ceil(math.log2(count))))
    private = tuple(
        Subnet(f"{prefix}-{slug}-private-{i + 1}", str(blocks[i]), i, False) for i in range(azs)
    )
    public_ = tuple(
        Subnet(f"{prefix}-{slug}-public-{i + 1}", str(blocks[azs + i]), i, True)
        for i in range(azs)
        if public
    )
    return private, public_


@dataclass(frozen=True)
class Flow:
    """Database traffic allowed from `client` subnets to `server` subnets on `port`."""

    client_site: str
    client_cidrs: tuple[str, ...]
    server_site: str
    server_cidrs: tuple[str, ...]
    port: int


class AclBuilder:
    """Numbers entries in the order they must be evaluated: allow, then deny, then S3."""

    def __init__(self) -> None:
        self.entries: list[AclEntry] = []

    def add(
        self,
        egress: bool,
        cidr: str,
        ports: tuple[int, int],
        reason: str,
        *,
        allow: bool = True,
        protocol: str = "tcp",
        base: int,
    ) -> None:
        number = base + sum(
            1 for e in self.entries if e.egress == egress and base <= e.number < base + 100
        )
        self.entries.append(
            AclEntry(number, egress, protocol, ports[0], ports[1], cidr, allow, reason)  # type: ignore[arg-type]
        )


def acl_entries(
    site: str, vpc_cidr: str, flows: list[Flow], peer_cidrs: list[str], has_functions: bool
) -> tuple[AclEntry, ...]:
    acl = AclBuilder()
    for egress in (False, True):
        acl.add(egress, vpc_cidr, (0, 65535), "traffic inside the VPC", protocol="all", base=100)
    for flow in (f for f in flows if f.client_site != f.server_site):  # local: rule 100
        if flow.server_site == site:
            for cidr in flow.client_cidrs:
                acl.add(
                    False,
                    cidr,
                    (flow.port, flow.port),
                    f"database port from {flow.client_site}",
                    base=200,
                )
                acl.add(True, cidr, EPHEMERAL, f"database replies to {flow.client_site}", base=200)
        if flow.client_site == site:
            for cidr in flow.server_cidrs:
                acl.add(
                    True,
                    cidr,
                    (flow.port, flow.port),
                    f"database port to {flow.server_site}",
                    base=300,
                )
                acl.add(
                    False, cidr, EPHEMERAL, f"database replies from {flow.server_site}", base=300
                )
    for cidr in peer_cidrs:
        for egress in (False, True):
            acl.add(
                egress,
                cidr,
                (0, 65535),
                "nothing else crosses the peering",
                allow=False,
                protocol="all",
                base=400,
            )
    if has_functions:
        acl.add(True, "0.0.0.0/0", (443, 443), "HTTPS to S3 through the gateway endpoint", base=500)
        for ports in S3_RETURN:
            acl.add(
                False, "0.0.0.0/0", ports, "replies from S3 through the gateway endpoint", base=500
            )
    return tuple(acl.entries)


def security_groups(
    site: str,
    prefix: str,
    vpc_cidr: str,
    port: int,
    flows: list[Flow],
    has_functions: bool,
    public_https: bool = False,
    checked_on: int = 443,
) -> tuple[SecurityGroup, ...]:
    db_in = tuple(
        SgRule("tcp", port, port, cidr, f"database clients in {f.client_site}")
        for f in flows
        if f.server_site == site
        for cidr in f.client_cidrs
    )
    groups = [
        SecurityGroup(
            "database",
            f"{prefix}-database",
            "Aurora cluster: database port from the sync functions only",
            db_in,
            (),
        )
    ]
    if has_functions:
        fn_out = (
            *tuple(
                SgRule("tcp", f.port, f.port, cidr, f"database in {f.server_site}")
                for f in flows
                if f.client_site == site
                for cidr in f.server_cidrs
            ),
            SgRule("tcp", 443, 443, vpc_cidr, "AWS APIs through interface endpoints"),
            SgRule(
                "tcp",
                443,
                443,
                "0.0.0.0/0",
                "S3 through the gateway endpoint (no NAT, so nothing else)",
            ),
        )
        groups.append(
            SecurityGroup(
                "functions",
                f"{prefix}-functions",
                "Lambda functions in the private subnets",
                (),
                fn_out,
            )
        )
        endpoints_in = (SgRule("tcp", 443, 443, vpc_cidr, "HTTPS from inside the VPC"),)
        groups.append(
            SecurityGroup(
                "endpoints",
                f"{prefix}-endpoints",
                "Interface endpoints for AWS APIs",
                endpoints_in,
                (),
            )
        )
    if public_https:
        # HTTPS only: a payments API has no plain-HTTP listener to redirect from. The ALB
        # invokes its Lambda target through the Lambda service, so it needs no egress.
        groups.append(
            SecurityGroup(
                "alb",
                f"{prefix}-alb",
                "Load balancer: HTTPS from the internet",
                (
                    SgRule("tcp", 443, 443, "0.0.0.0/0", "HTTPS from clients and health checks"),
                    *(
                        (SgRule("tcp", checked_on, checked_on, "0.0.0.0/0", "health checks"),)
                        if checked_on != 443
                        else ()
                    ),
                ),
                (),
            )
        )
    return tuple(groups)
