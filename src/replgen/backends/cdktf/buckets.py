"""The site's buckets: migration scripts, the bucket receiving their S3 access logs, and
the disaster-recovery buckets with their cross-region replication.

AWS provider 6 splits a bucket's settings into resources of their own: versioning,
encryption, public access block, ownership, policy, logging, lifecycle and replication
each name the bucket. `force_destroy` empties a destroyable site's bucket on destroy, so
the environment can be torn down; a protected site's bucket is never destroyed. Where the
site has a foundation, its buckets are built in that stack.
"""

from __future__ import annotations

from typing import Any

from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktf_cdktf_provider_aws.s3_bucket_logging import S3BucketLoggingA
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_replication_configuration import (
    S3BucketReplicationConfigurationA,
    S3BucketReplicationConfigurationRule,
    S3BucketReplicationConfigurationRuleDeleteMarkerReplication,
    S3BucketReplicationConfigurationRuleDestination,
    S3BucketReplicationConfigurationRuleDestinationEncryptionConfiguration,
    S3BucketReplicationConfigurationRuleDestinationMetrics,
    S3BucketReplicationConfigurationRuleDestinationMetricsEventThreshold,
    S3BucketReplicationConfigurationRuleDestinationReplicationTime,
    S3BucketReplicationConfigurationRuleDestinationReplicationTimeTime,
    S3BucketReplicationConfigurationRuleFilter,
    S3BucketReplicationConfigurationRuleSourceSelectionCriteria,
    S3BucketReplicationConfigurationRuleSourceSelectionCriteriaSseKmsEncryptedObjects,
)
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)
from constructs import Construct

from replgen.backends.cdktf.context import Ctx, document, kept, skip, snake, tags
from replgen.plan.model import Bucket, Replication, Site
from replgen.plan.policies import bucket_policy


class Buckets(Construct):
    def __init__(self, scope: Construct, id: str, ctx: Ctx, site: Site) -> None:
        super().__init__(scope, id)
        self.ctx, self.site = ctx, site
        self.buckets: dict[str, S3Bucket] = {}
        self.policies: dict[str, S3BucketPolicy] = {}
        self.versioning: dict[str, S3BucketVersioningA] = {}
        here = [b for b in site.buckets if ctx.here(site, b.key)]
        for bucket in ctx.each(self, site, here):
            self.buckets[bucket.key] = self._bucket(bucket)
        # Policies once every bucket exists: a log bucket's policy names its sources.
        for bucket in ctx.each(self, site, here):
            self.policies[bucket.key] = self._policy(bucket)
        for bucket in ctx.each(self, site, here):
            self._logging(bucket)
            self._replication(bucket)

    # ------------------------------------------------------------ the bucket

    def _bucket(self, bucket: Bucket) -> S3Bucket:
        name = snake(bucket.key)
        resource = S3Bucket(
            self,
            name,
            bucket=bucket.name,
            # Destroyable sites' buckets are emptied on destroy; protected ones are kept.
            force_destroy=not self.site.deletion_protection,
            tags=tags(bucket.name, Purpose=bucket.purpose),
            **kept(self.site),
        )
        skip(resource, bucket.waivers)
        self.ctx.keep(self.site, bucket.key, resource)
        self.ctx.put(self.site, bucket.key, "arn", resource.arn)
        self.ctx.put(self.site, bucket.key, "name", resource.bucket)
        S3BucketOwnershipControls(
            self,
            f"{name}_ownership",
            bucket=resource.id,
            rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
        )
        S3BucketPublicAccessBlock(
            self,
            f"{name}_public_access_block",
            bucket=resource.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        versioning = S3BucketVersioningA(
            self,
            f"{name}_versioning",
            bucket=resource.id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
        )
        self.versioning[bucket.key] = versioning
        S3BucketServerSideEncryptionConfigurationA(
            self,
            f"{name}_encryption",
            bucket=resource.id,
            rule=[self._encryption(bucket)],
        )
        S3BucketLifecycleConfiguration(
            self,
            f"{name}_lifecycle",
            bucket=resource.id,
            rule=[_lifecycle(bucket)],
            depends_on=[versioning],  # noncurrent-version rules need versioning on first
        )
        return resource

    def _encryption(self, bucket: Bucket) -> S3BucketServerSideEncryptionConfigurationRuleA:
        by_default = (
            S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA
        )
        if bucket.kms_key is None:
            # S3 server access logs can only be delivered to SSE-S3 buckets.
            return S3BucketServerSideEncryptionConfigurationRuleA(
                apply_server_side_encryption_by_default=by_default(sse_algorithm="AES256")
            )
        # S3 Bucket Keys apply to SSE-KMS only: fewer KMS requests, same key.
        return S3BucketServerSideEncryptionConfigurationRuleA(
            apply_server_side_encryption_by_default=by_default(
                sse_algorithm="aws:kms", kms_master_key_id=self.ctx.value(bucket.kms_key)
            ),
            bucket_key_enabled=True,
        )

    # ------------------------------------------------------------ access logging

    def _logging(self, bucket: Bucket) -> None:
        if bucket.access_log_bucket is None:
            return
        S3BucketLoggingA(
            self,
            f"{snake(bucket.key)}_logging",
            bucket=self.buckets[bucket.key].id,
            target_bucket=self.buckets[bucket.access_log_bucket].id,
            target_prefix=bucket.access_log_prefix,
            # Log delivery is authorised by the target's policy, so it must exist first.
            depends_on=[self.policies[bucket.access_log_bucket]],
        )

    # ------------------------------------------------------------ bucket policy

    def _policy(self, bucket: Bucket) -> S3BucketPolicy:
        return S3BucketPolicy(
            self,
            f"{snake(bucket.key)}_policy",
            bucket=self.buckets[bucket.key].id,
            policy=document(bucket_policy(self.site, bucket)),
        )

    # ------------------------------------------------------------ replication

    def _replication(self, bucket: Bucket) -> None:
        """One rule per destination region: every version, delete markers and SSE-KMS
        objects included, re-encrypted with the destination's key, under an RTC SLA."""
        if not bucket.replication:
            return
        roles = {r.role for r in bucket.replication}
        (role,) = roles  # one role replicates a bucket: S3 takes one per configuration
        S3BucketReplicationConfigurationA(
            self,
            f"{snake(bucket.key)}_replication",
            bucket=self.buckets[bucket.key].id,
            role=self.ctx.role_arn(self.site, role),
            rule=[self._rule(priority, r) for priority, r in enumerate(bucket.replication)],
            depends_on=[self.versioning[bucket.key]],  # S3 refuses it on an unversioned bucket
        )

    def _rule(self, priority: int, r: Replication) -> S3BucketReplicationConfigurationRule:
        enabled = "Enabled"
        destination = S3BucketReplicationConfigurationRuleDestination(
            bucket=r.destination_bucket,
            encryption_configuration=(
                S3BucketReplicationConfigurationRuleDestinationEncryptionConfiguration(
                    replica_kms_key_id=self.ctx.ref(r.destination_key)
                )
            ),
            replication_time=S3BucketReplicationConfigurationRuleDestinationReplicationTime(
                status=enabled,
                time=S3BucketReplicationConfigurationRuleDestinationReplicationTimeTime(
                    minutes=r.time_minutes
                ),
            ),
            # Replication Time Control needs the metrics, which the plan's alarms read.
            metrics=S3BucketReplicationConfigurationRuleDestinationMetrics(
                status=enabled,
                event_threshold=(
                    S3BucketReplicationConfigurationRuleDestinationMetricsEventThreshold(
                        minutes=r.time_minutes
                    )
                ),
            ),
        )
        kms_objects = (
            S3BucketReplicationConfigurationRuleSourceSelectionCriteriaSseKmsEncryptedObjects
        )
        return S3BucketReplicationConfigurationRule(
            id=r.rule_id,
            priority=priority,
            status=enabled,
            filter=S3BucketReplicationConfigurationRuleFilter(prefix=""),  # every object
            delete_marker_replication=(
                S3BucketReplicationConfigurationRuleDeleteMarkerReplication(status=enabled)
            ),
            source_selection_criteria=S3BucketReplicationConfigurationRuleSourceSelectionCriteria(
                sse_kms_encrypted_objects=kms_objects(status=enabled)
            ),
            destination=destination,
        )


def _lifecycle(bucket: Bucket) -> S3BucketLifecycleConfigurationRule:
    rule: dict[str, Any] = {
        "id": "expire",
        "status": "Enabled",
        "filter": [S3BucketLifecycleConfigurationRuleFilter()],  # `filter {}`: every object
        "abort_incomplete_multipart_upload": [
            S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                days_after_initiation=bucket.abort_multipart_days
            )
        ],
    }
    if bucket.expire_days is not None:
        rule["expiration"] = [S3BucketLifecycleConfigurationRuleExpiration(days=bucket.expire_days)]
    if bucket.noncurrent_expire_days is not None:
        rule["noncurrent_version_expiration"] = [
            S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                noncurrent_days=bucket.noncurrent_expire_days
            )
        ]
    return S3BucketLifecycleConfigurationRule(**rule)
