"""Carving a site's CIDR into subnets and deciding exactly what may cross each peering."""

from __future__ import annotations

import hashlib
import ipaddress
import math
from dataclasses import dataclass, replace
from typing import Literal

from replgen.plan.model import AclEntry, SecurityGroup, SgRule, Subnet
from replgen.plan.waivers import Waiver, waive

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


# Rule numbers say what an entry is, never where it sits in a list, so adding or removing
# a peer leaves every other entry as it was (an entry whose number changes is replaced:
# a gap in traffic on deploy). The ACL is evaluated lowest number first:
#   100            traffic inside the VPC
#   1000 + 16*slot a peer's block: its allows first, then the deny of its whole CIDR at +15;
#                  slot = sha256(peer site id) mod PEER_SLOTS, the next free slot on the rare
#                  collision (peers taken in order of preferred slot, then id)
#   30000 + 8*k    summary blocks, where per-peer entries exceed the quota: allows over a
#                  whole private range, then its deny at +7 (k: the range, fixed below)
#   32700          S3 through the gateway endpoint, after every deny of a peer
LOCAL_RULE = 100
PEER_BASE, PEER_BLOCK, PEER_SLOTS = 1000, 16, 1800
SUMMARY_BASE, SUMMARY_BLOCK = 30000, 8
S3_RULE = 32700
PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")


@dataclass(frozen=True)
class Allow:
    """One allow entry towards a peer (or a summary range), before it is numbered."""

    egress: bool
    cidr: str
    ports: tuple[int, int]
    kind: Literal["port", "replies"]  # the database port, or the ephemeral replies

    def reason(self, who: str) -> str:
        return f"database {self.kind} {'to' if self.egress else 'from'} {who}"


def _entry(
    number: int,
    egress: bool,
    cidr: str,
    ports: tuple[int, int],
    reason: str,
    allow: bool = True,
    protocol: str = "tcp",
) -> AclEntry:
    # An ingress rule on every port is meant: inside the VPC, or to close a peer out.
    every_port = protocol == "all" and not egress
    why = Waiver.ACL_ALL_PORTS_IN_VPC if allow else Waiver.ACL_DENY_ALL_PORTS
    return AclEntry(
        number,
        egress,
        protocol,  # type: ignore[arg-type]
        ports[0],
        ports[1],
        cidr,
        allow,
        reason,
        waive(why) if every_port else (),
    )


def _peer_allows(site: str, peer: str, flows: list[Flow]) -> list[Allow]:
    out: list[Allow] = []
    for flow in flows:
        db = (flow.port, flow.port)
        if flow.server_site == site and flow.client_site == peer:
            for cidr in flow.client_cidrs:
                out += [Allow(False, cidr, db, "port"), Allow(True, cidr, EPHEMERAL, "replies")]
        if flow.client_site == site and flow.server_site == peer:
            for cidr in flow.server_cidrs:
                out += [Allow(True, cidr, db, "port"), Allow(False, cidr, EPHEMERAL, "replies")]
    return sorted(set(out), key=lambda a: (a.egress, ipaddress.IPv4Network(a.cidr), a.ports))


def preferred_slot(peer: str) -> int:
    return int(hashlib.sha256(peer.encode()).hexdigest()[:8], 16) % PEER_SLOTS


def peer_slots(peers: list[str]) -> dict[str, int]:
    """Each peer's block of rule numbers, from its name: another peer never moves it, except
    on a hash collision (probability about n/PEER_SLOTS for the n-th peer)."""
    preferred = {p: preferred_slot(p) for p in peers}
    taken: dict[int, str] = {}
    for peer in sorted(peers, key=lambda p: (preferred[p], p)):
        slot = preferred[peer]
        while slot in taken:
            slot = (slot + 1) % PEER_SLOTS
        taken[slot] = peer
    return {peer: slot for slot, peer in taken.items()}


def summary_range(cidr: str) -> tuple[int, str]:
    """The private range holding a CIDR (or its /8 outside them), and that range's index."""
    net = ipaddress.IPv4Network(cidr)
    for k, block in enumerate(PRIVATE_RANGES):
        if net.subnet_of(ipaddress.IPv4Network(block)):
            return k, block
    eight = net.supernet(new_prefix=8)
    return len(PRIVATE_RANGES) + int(eight.network_address) // 2**24, str(eight)


def _numbered(allows: list[Allow], base: int, who: str) -> list[AclEntry]:
    out: list[AclEntry] = []
    for egress in (False, True):
        mine = [a for a in allows if a.egress == egress]
        out += [
            _entry(base + i, egress, a.cidr, a.ports, a.reason(who)) for i, a in enumerate(mine)
        ]
    return out


def _denies(number: int, cidr: str, reason: str) -> list[AclEntry]:
    return [_entry(number, e, cidr, (0, 65535), reason, False, "all") for e in (False, True)]


def _per_peer(site: str, flows: list[Flow], peers: list[tuple[str, str]]) -> list[AclEntry]:
    slots = peer_slots([p for p, _ in peers])
    out: list[AclEntry] = []
    for peer, cidr in peers:
        base = PEER_BASE + PEER_BLOCK * slots[peer]
        out += _numbered(_peer_allows(site, peer, flows), base, peer)
        out += _denies(base + PEER_BLOCK - 1, cidr, f"nothing else crosses the peering with {peer}")
    return out


def _summarised(site: str, flows: list[Flow], peers: list[tuple[str, str]]) -> list[AclEntry]:
    """The peers' allows widened to the private range holding them: what reaches the
    subnets is still decided exactly by the security groups."""
    ranges: dict[int, tuple[str, set[Allow]]] = {}
    for peer, cidr in peers:
        k, block = summary_range(cidr)
        widened = ranges.setdefault(k, (block, set()))[1]
        widened.update(replace(a, cidr=block) for a in _peer_allows(site, peer, flows))
    out: list[AclEntry] = []
    for k, (block, widened) in sorted(ranges.items()):
        base = SUMMARY_BASE + SUMMARY_BLOCK * k
        allows = sorted(widened, key=lambda a: (a.egress, a.ports))
        out += _numbered(allows, base, f"peers in {block} (summarised)")
        out += _denies(base + SUMMARY_BLOCK - 1, block, f"nothing else crosses peerings in {block}")
    return out


def _fixed(vpc_cidr: str, has_functions: bool) -> list[AclEntry]:
    out = [
        _entry(LOCAL_RULE, e, vpc_cidr, (0, 65535), "traffic inside the VPC", True, "all")
        for e in (False, True)
    ]
    if has_functions:
        out.append(
            _entry(
                S3_RULE, True, "0.0.0.0/0", (443, 443), "HTTPS to S3 through the gateway endpoint"
            )
        )
        for i, ports in enumerate(S3_RETURN):
            out.append(
                _entry(
                    S3_RULE + i,
                    False,
                    "0.0.0.0/0",
                    ports,
                    "replies from S3 through the gateway endpoint",
                )
            )
    return out


def _most_per_direction(entries: list[AclEntry]) -> int:
    return max(sum(1 for e in entries if e.egress == egress) for egress in (False, True))


def acl_entries(
    site: str,
    vpc_cidr: str,
    flows: list[Flow],
    peers: list[tuple[str, str]],
    has_functions: bool,
    limit: int,
) -> tuple[AclEntry, ...]:
    """The private subnets' ACL: exact per peer where that fits `limit` entries per
    direction, summarised over the peers' private ranges where it does not.

    `peers` are (site id, VPC CIDR) of every site peered with this one.
    """
    fixed = _fixed(vpc_cidr, has_functions)
    entries = fixed + _per_peer(site, flows, peers)
    if _most_per_direction(entries) > limit:
        entries = fixed + _summarised(site, flows, peers)
    return tuple(sorted(entries, key=lambda e: (e.egress, e.number)))


def security_groups(
    site: str,
    prefix: str,
    vpc_cidr: str,
    port: int,
    flows: list[Flow],
    has_functions: bool,
    public_https: bool = False,
    checked_on: int = 443,
    limit: int = 60,
) -> tuple[SecurityGroup, ...]:
    """Exact rules per peer subnet. Where the functions' rules exceed `limit`, the database
    rules move to groups of their own ("functions-db-<n>", at most `limit` rules each) that
    the functions join as well: a function may have up to five groups."""
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
        groups += _function_groups(site, prefix, vpc_cidr, flows, limit)
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


def _function_groups(
    site: str, prefix: str, vpc_cidr: str, flows: list[Flow], limit: int
) -> list[SecurityGroup]:
    to_databases: dict[str, list[SgRule]] = {}
    for f in flows:
        if f.client_site == site:
            rules = to_databases.setdefault(f.server_site, [])
            rules += [
                SgRule("tcp", f.port, f.port, c, f"database in {f.server_site}")
                for c in f.server_cidrs
            ]
    apis = [
        SgRule("tcp", 443, 443, vpc_cidr, "AWS APIs through interface endpoints"),
        SgRule(
            "tcp",
            443,
            443,
            "0.0.0.0/0",
            "S3 through the gateway endpoint (no NAT, so nothing else)",
        ),
    ]
    description = "Lambda functions in the private subnets"
    every = [r for rules in to_databases.values() for r in rules]
    if len(every) + len(apis) <= limit:
        return [SecurityGroup("functions", f"{prefix}-functions", description, (), (*every, *apis))]
    groups = [SecurityGroup("functions", f"{prefix}-functions", description, (), tuple(apis))]
    for n, rules in sorted(_spread(to_databases, limit).items()):
        groups.append(
            SecurityGroup(
                f"functions-db-{n}",
                f"{prefix}-functions-db-{n}",
                f"Lambda functions in the private subnets: database ports, part {n}",
                (),
                tuple(rules),
            )
        )
    return groups


def _spread(rules: dict[str, list[SgRule]], limit: int) -> dict[int, list[SgRule]]:
    """Each peer's rules in the group it ranks highest that has room (rendezvous hashing,
    peers taken by name, over the fewest groups holding every rule within `limit`): while
    that group has room, adding or removing a peer touches its own group only (near the
    quota it can displace a peer that ranks the same group first), and a group added as the
    rules outgrow the others takes about its share of them, not a reshuffle of every group."""
    count = max(1, math.ceil(sum(map(len, rules.values())) / limit))
    while True:
        groups: dict[int, list[SgRule]] = {n: [] for n in range(1, count + 1)}
        for peer in sorted(rules):
            ranked = sorted(groups, key=lambda n: _rank(peer, n), reverse=True)
            room = [n for n in ranked if len(groups[n]) + len(rules[peer]) <= limit]
            if not room:
                break
            groups[room[0]] += rules[peer]
        else:
            return {n: g for n, g in groups.items() if g}
        count += 1


def _rank(peer: str, group: int) -> bytes:
    return hashlib.sha256(f"{peer}/{group}".encode()).digest()
