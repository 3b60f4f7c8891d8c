"""VPC peering: the connection and the routes to the peer in each side's private route table.

One stack per peering, with two providers: the stack's default one in the requester's
account and region creates the connection and its route; where the accepter is in another
account or region, `accepter_provider` (its account and region) accepts the connection and
adds the accepter's route. Where both share account and region the connection is accepted
on creation and both routes use the default provider.

CloudFormation accepts a cross-account connection by assuming `p.accepter_role` in the
accepter's account; Terraform accepts it with the accepter's provider instead, so the role
(still in the plan, rendered by roles in the accepter's site) is not named here.
"""

from __future__ import annotations

from typing import Any

from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.vpc_peering_connection import VpcPeeringConnection
from cdktf_cdktf_provider_aws.vpc_peering_connection_accepter import (
    VpcPeeringConnectionAccepterA,
)
from constructs import Construct

from replgen.backends.cdktf.context import Ctx, tags
from replgen.plan.model import Peering as PlanPeering


class Peering(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        ctx: Ctx,
        p: PlanPeering,
        accepter_provider: AwsProvider | None,
    ) -> None:
        super().__init__(scope, id)
        across = accepter_provider is not None
        connection = VpcPeeringConnection(
            self,
            "connection",
            vpc_id=ctx.value(p.requester_vpc),
            peer_vpc_id=ctx.value(p.accepter_vpc),
            tags=tags(p.name),
            **_across(p) if across else {"auto_accept": True},
        )
        # Routes name the connection once it is active: through the accepter where there is one.
        active: Any = connection
        if accepter_provider is not None:
            active = VpcPeeringConnectionAccepterA(
                self,
                "accepter",
                provider=accepter_provider,
                vpc_peering_connection_id=connection.id,
                auto_accept=True,
                tags=tags(p.name),
            )
        Route(
            self,
            "route_to_accepter",
            route_table_id=ctx.value(p.requester_route_table),
            destination_cidr_block=p.accepter_cidr,
            vpc_peering_connection_id=connection.id,
            depends_on=[active] if across else None,
        )
        Route(
            self,
            "route_to_requester",
            provider=accepter_provider,
            route_table_id=ctx.value(p.accepter_route_table),
            destination_cidr_block=p.requester_cidr,
            vpc_peering_connection_id=active.id,
        )


def _across(p: PlanPeering) -> dict[str, Any]:
    """What the requester names when the accepter is in another account or region."""
    across: dict[str, Any] = {}
    if p.cross_account:
        across["peer_owner_id"] = p.accepter_account
    if p.cross_region:
        across["peer_region"] = p.accepter_region
    return across
