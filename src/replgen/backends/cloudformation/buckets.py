"""The site's buckets: migration scripts, disaster-recovery storage and its replication,
and the bucket receiving their S3 access logs (and the load balancer's)."""

from __future__ import annotations

from typing import Any

import troposphere as t
from troposphere import s3

from replgen.backends.cloudformation.context import (
    Ctx,
    emptied_tag,
    on_delete,
    skipped,
    tags,
)
from replgen.plan.model import Bucket, Replication, Site
from replgen.plan.policies import bucket_policy


def render(ctx: Ctx, site: Site) -> None:
    for bucket in ctx.each(site, site.buckets):
        if ctx.owns(site, bucket.key):
            _bucket(ctx, site, bucket)
            _policy(ctx, site, bucket)


def bucket_lid(ctx: Ctx, site: Site, bucket: Bucket) -> str:
    return ctx.component_lid(site, bucket.key, "Bucket")


def _encryption(ctx: Ctx, site: Site, bucket: Bucket) -> s3.BucketEncryption:
    default = (
        s3.ServerSideEncryptionByDefault(
            SSEAlgorithm="aws:kms", KMSMasterKeyID=ctx.value(bucket.kms_key, site)
        )
        if bucket.kms_key is not None
        # S3 server access logs can only be delivered to SSE-S3 buckets.
        else s3.ServerSideEncryptionByDefault(SSEAlgorithm="AES256")
    )
    # S3 Bucket Keys apply to SSE-KMS only: fewer KMS requests, same key.
    extra = {"BucketKeyEnabled": True} if bucket.kms_key is not None else {}
    rule = s3.ServerSideEncryptionRule(ServerSideEncryptionByDefault=default, **extra)
    return s3.BucketEncryption(ServerSideEncryptionConfiguration=[rule])


def _lifecycle(bucket: Bucket) -> s3.LifecycleConfiguration:
    rule: dict[str, Any] = {
        "Id": "expire",
        "Status": "Enabled",
        "AbortIncompleteMultipartUpload": s3.AbortIncompleteMultipartUpload(
            DaysAfterInitiation=bucket.abort_multipart_days
        ),
    }
    if bucket.expire_days is not None:
        rule["ExpirationInDays"] = bucket.expire_days
    if bucket.noncurrent_expire_days is not None:
        rule["NoncurrentVersionExpiration"] = s3.NoncurrentVersionExpiration(
            NoncurrentDays=bucket.noncurrent_expire_days
        )
    return s3.LifecycleConfiguration(Rules=[s3.LifecycleRule(**rule)])


def _logging(ctx: Ctx, site: Site, bucket: Bucket) -> dict[str, Any]:
    if bucket.access_log_bucket is None:
        return {}
    target = ctx.component_lid(site, bucket.access_log_bucket, "Bucket")
    return {
        "LoggingConfiguration": s3.LoggingConfiguration(
            DestinationBucketName=t.Ref(target), LogFilePrefix=bucket.access_log_prefix
        ),
        # Log delivery is authorised by the target's policy, so it must exist first.
        "DependsOn": [policy_lid(target)],
    }


def _rule(ctx: Ctx, site: Site, priority: int, r: Replication) -> s3.ReplicationConfigurationRules:
    every_minutes = s3.ReplicationTimeValue(Minutes=r.time_minutes)
    return s3.ReplicationConfigurationRules(
        Id=r.rule_id,
        Priority=priority,
        Status="Enabled",
        Filter=s3.ReplicationRuleFilter(Prefix=""),  # every object
        DeleteMarkerReplication=s3.DeleteMarkerReplication(Status="Enabled"),
        # Every object here is SSE-KMS: without this S3 replicates none of them.
        SourceSelectionCriteria=s3.SourceSelectionCriteria(
            SseKmsEncryptedObjects=s3.SseKmsEncryptedObjects(Status="Enabled")
        ),
        Destination=s3.ReplicationConfigurationRulesDestination(
            Bucket=r.destination_bucket,
            EncryptionConfiguration=s3.EncryptionConfiguration(
                ReplicaKmsKeyID=ctx.ref(r.destination_key, site)
            ),
            # Replication Time Control; its metrics feed the plan's replication alarms.
            ReplicationTime=s3.ReplicationTime(Status="Enabled", Time=every_minutes),
            Metrics=s3.Metrics(Status="Enabled", EventThreshold=every_minutes),
        ),
    )


def _replication(ctx: Ctx, site: Site, bucket: Bucket) -> dict[str, Any]:
    if not bucket.replication:
        return {}
    # S3 takes one role per bucket: every rule of the plan names the same one.
    (role,) = {r.role for r in bucket.replication}
    rules = [_rule(ctx, site, n, r) for n, r in enumerate(bucket.replication)]
    return {
        "ReplicationConfiguration": s3.ReplicationConfiguration(
            Role=ctx.role_arn(site, role), Rules=rules
        )
    }


def private_bucket() -> dict[str, Any]:
    """What every bucket replgen builds has: versions kept, no public access, and objects
    owned by the bucket's account (no ACLs)."""
    return {
        "VersioningConfiguration": s3.VersioningConfiguration(Status="Enabled"),
        "PublicAccessBlockConfiguration": s3.PublicAccessBlockConfiguration(
            BlockPublicAcls=True,
            BlockPublicPolicy=True,
            IgnorePublicAcls=True,
            RestrictPublicBuckets=True,
        ),
        "OwnershipControls": s3.OwnershipControls(
            Rules=[s3.OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]
        ),
    }


def _bucket(ctx: Ctx, site: Site, bucket: Bucket) -> None:
    ctx.add(
        s3.Bucket(
            bucket_lid(ctx, site, bucket),
            BucketName=bucket.name,
            **private_bucket(),
            BucketEncryption=_encryption(ctx, site, bucket),
            LifecycleConfiguration=_lifecycle(bucket),
            Tags=tags(
                ctx.plan, bucket.name, Purpose=bucket.purpose, **emptied_tag(site, bucket.key)
            ),
            **on_delete(site),
            **_logging(ctx, site, bucket),
            **_replication(ctx, site, bucket),
            **skipped(bucket.waivers),
        )
    )


# ---------------------------------------------------------------- bucket policies


def policy_lid(bucket_lid: str) -> str:
    return f"{bucket_lid}Policy"


def _policy(ctx: Ctx, site: Site, bucket: Bucket) -> None:
    lid = bucket_lid(ctx, site, bucket)
    ctx.add(
        s3.BucketPolicy(
            policy_lid(lid),
            Bucket=t.Ref(lid),
            PolicyDocument=bucket_policy(site, bucket),
        )
    )
