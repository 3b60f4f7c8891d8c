"""The sessions table: a DynamoDB global table in the primary's stack, a replica per
other region, each encrypted with its region's key."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableReplica,
    DynamodbTableServerSideEncryption,
    DynamodbTableTtl,
)
from constructs import Construct

from replgen.backends.cdktf.context import Ctx, kept, tags
from replgen.plan.model import GlobalTable, Site


class Sessions(Construct):
    def __init__(self, scope: Construct, id: str, ctx: Ctx, site: Site) -> None:
        super().__init__(scope, id)
        self.ctx, self.site = ctx, site
        if site.table is not None:
            self._table(site.table)

    def _table(self, table: GlobalTable) -> None:
        (_, own_key), *others = table.replicas  # the primary's region comes first
        DynamodbTable(
            self,
            "table",
            name=table.name,
            billing_mode=table.billing_mode,
            hash_key=table.hash_key,
            attribute=[DynamodbTableAttribute(name=table.hash_key, type="S")],
            ttl=DynamodbTableTtl(attribute_name=table.ttl_attribute, enabled=True),
            # Global tables replicate through the stream.
            stream_enabled=True,
            stream_view_type=table.stream_view,
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(
                enabled=table.point_in_time_recovery
            ),
            server_side_encryption=DynamodbTableServerSideEncryption(
                enabled=True, kms_key_arn=self.ctx.ref(own_key)
            ),
            replica=[
                DynamodbTableReplica(
                    region_name=region,
                    kms_key_arn=self.ctx.ref(key),
                    point_in_time_recovery=table.point_in_time_recovery,
                    deletion_protection_enabled=self.site.deletion_protection,
                )
                for region, key in others
            ],
            deletion_protection_enabled=self.site.deletion_protection,
            tags=tags(table.name),
            **kept(self.site),
        )
