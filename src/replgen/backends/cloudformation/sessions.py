"""Sessions: the DynamoDB global table, created with the primary, a replica per region."""

from __future__ import annotations

from typing import Any

from troposphere import dynamodb

from replgen.backends.cloudformation.context import Ctx, on_delete, tags
from replgen.plan.model import GlobalTable, Site


def render(ctx: Ctx, site: Site) -> None:
    if site.table is not None:
        _table(ctx, site, site.table)


def _replica(
    ctx: Ctx, site: Site, table: GlobalTable, region: str, key: Any
) -> dynamodb.ReplicaSpecification:
    return dynamodb.ReplicaSpecification(
        Region=region,
        DeletionProtectionEnabled=site.deletion_protection,
        PointInTimeRecoverySpecification=dynamodb.PointInTimeRecoverySpecification(
            PointInTimeRecoveryEnabled=table.point_in_time_recovery
        ),
        # Each replica is encrypted with its own region's key.
        SSESpecification=dynamodb.ReplicaSSESpecification(KMSMasterKeyId=key),
        Tags=tags(ctx.plan, table.name),
    )


def _table(ctx: Ctx, site: Site, table: GlobalTable) -> None:
    ctx.add(
        dynamodb.GlobalTable(
            ctx.lid(site, "SessionsTable"),
            TableName=table.name,
            BillingMode=table.billing_mode,
            AttributeDefinitions=[
                dynamodb.AttributeDefinition(AttributeName=table.hash_key, AttributeType="S")
            ],
            KeySchema=[dynamodb.KeySchema(AttributeName=table.hash_key, KeyType="HASH")],
            TimeToLiveSpecification=dynamodb.TimeToLiveSpecification(
                AttributeName=table.ttl_attribute, Enabled=True
            ),
            StreamSpecification=dynamodb.StreamSpecification(StreamViewType=table.stream_view),
            SSESpecification=dynamodb.GlobalTableSSESpecification(SSEEnabled=True, SSEType="KMS"),
            Replicas=[
                _replica(ctx, site, table, region, ctx.ref(key, site))
                for region, key in table.replicas
            ],
            **on_delete(site),
        )
    )
