"""VPC peering: the connection and the routes to the peer in each side's private route table.

In the stacks layout the requester's account creates the connection (and the accepter
accepts it through `accepter_role`), then a stack in the accepter's account adds its route;
in the single layout everything is local and the connection is accepted automatically.
"""

from __future__ import annotations

from typing import Any

import troposphere as t
import troposphere.ec2 as ec2

from replgen.backends.cloudformation.context import Ctx, Input, camel, tags
from replgen.plan.arns import role_arn
from replgen.plan.model import Peering, Ref

OUTPUT = "PeeringConnectionId"


def render_requester(ctx: Ctx, p: Peering) -> None:
    connection = _connection(ctx, p, _across(p))
    _route(ctx, p, "RouteToAccepter", p.requester_route_table, p.accepter_cidr, t.Ref(connection))
    ctx.template.add_output(
        t.Output(OUTPUT, Description=f"VPC peering connection {p.name}", Value=t.Ref(connection))
    )


def render_accepter(ctx: Ctx, p: Peering, request_stack: str) -> None:
    ctx.template.add_parameter(
        t.Parameter(
            OUTPUT,
            Type="String",
            Description=f"VPC peering connection {p.name} (from the requester's stack)",
        )
    )
    ctx.inputs[OUTPUT] = Input(request_stack, OUTPUT)
    _route(ctx, p, "RouteToRequester", p.accepter_route_table, p.requester_cidr, t.Ref(OUTPUT))


def render_single(ctx: Ctx, p: Peering) -> None:
    # One account and region: no owner, role or region to name; CloudFormation accepts it.
    connection = t.Ref(_connection(ctx, p, {}))
    _route(ctx, p, "RouteToAccepter", p.requester_route_table, p.accepter_cidr, connection)
    _route(ctx, p, "RouteToRequester", p.accepter_route_table, p.requester_cidr, connection)


def _lid(ctx: Ctx, p: Peering, *parts: str) -> str:
    """A template of its own per peering needs no prefix; the single template does."""
    return camel(p.id, *parts) if ctx.single else camel(*parts)


def _across(p: Peering) -> dict[str, Any]:
    """What the requester names when the accepter is in another account or region."""
    across: dict[str, Any] = {}
    if p.cross_account:
        assert p.accepter_role is not None  # the plan names a role for every cross-account peer
        across["PeerOwnerId"] = p.accepter_account
        across["PeerRoleArn"] = role_arn(p.accepter_region, p.accepter_account, p.accepter_role)
    if p.cross_region:
        across["PeerRegion"] = p.accepter_region
    return across


def _connection(ctx: Ctx, p: Peering, across: dict[str, Any]) -> str:
    lid = _lid(ctx, p, "PeeringConnection")
    ctx.add(
        ec2.VPCPeeringConnection(
            lid,
            VpcId=ctx.ref(p.requester_vpc, None),
            PeerVpcId=ctx.ref(p.accepter_vpc, None),
            Tags=tags(ctx.plan, p.name),
            **across,
        )
    )
    return lid


def _route(ctx: Ctx, p: Peering, name: str, table: Ref, destination: str, connection: Any) -> None:
    ctx.add(
        ec2.Route(
            _lid(ctx, p, name),
            RouteTableId=ctx.ref(table, None),
            DestinationCidrBlock=destination,
            VpcPeeringConnectionId=connection,
        )
    )
