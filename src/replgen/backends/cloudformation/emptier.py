"""Emptying a destroyable site's buckets and backup vault when their stack is deleted.

CloudFormation deletes neither a bucket holding objects nor a vault holding recovery
points, so a stack holding them would stop half-deleted. A custom resource that depends on
them is deleted first: its function (inline code, like the parameter writer) refuses new
writes to each bucket, deletes every object version and delete marker, and deletes every
recovery point of the vault. It acts only on Delete while its own stack is being deleted
(or rolled back from a failed create), and only on a bucket or vault that still carries the
plan's tag: an update that removes or renames the emptier empties nothing, and a site that
becomes protected loses the tag in the same update.
"""

from __future__ import annotations

import troposphere as t
from troposphere import cloudformation

from replgen.backends.cloudformation import support
from replgen.backends.cloudformation.buckets import policy_lid
from replgen.backends.cloudformation.context import Ctx
from replgen.plan.arns import arn
from replgen.plan.model import Emptier, Site

# Recovery points take minutes to go: the longest a function runs, and CloudFormation waits.
TIMEOUT = 900
SERVICE_TIMEOUT = 900
RESERVED_CONCURRENCY = 1

# Inline code (ZipFile, at most 4096 characters); it answers CloudFormation on every path.
CODE = """\
import json
import time

import boto3
import cfnresponse
from botocore.config import Config
from botocore.exceptions import ClientError

CONFIG = Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 5})
S3 = boto3.client("s3", config=CONFIG)
BACKUP = boto3.client("backup", config=CONFIG)
CFN = boto3.client("cloudformation", config=CONFIG)
GONE = ("NoSuchBucket", "NoSuchTagSet", "ResourceNotFoundException")
MARGIN_MS = 60000  # left to answer CloudFormation
# Only when the stack goes: an update dropping or renaming the emptier empties nothing.
DELETING = ("DELETE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS")


def stack_deleting(stack_id):
    stack = CFN.describe_stacks(StackName=stack_id)["Stacks"][0]
    return stack["StackStatus"] in DELETING


def tags(read):
    try:
        return read()
    except ClientError as error:
        if error.response["Error"]["Code"] in GONE:
            return {}
        raise


def bucket_tags(name):
    found = tags(lambda: S3.get_bucket_tagging(Bucket=name))
    return {t["Key"]: t["Value"] for t in found.get("TagSet", [])}


def empty_bucket(name, partition):
    # No new object while emptying: log delivery and replication write late.
    deny = {"Sid": "Emptying", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
            "Resource": "arn:%s:s3:::%s/*" % (partition, name)}
    S3.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17",
                                                         "Statement": [deny]}))
    while True:
        page = S3.list_object_versions(Bucket=name)
        doomed = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                  for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        if not doomed:
            return
        failed = S3.delete_objects(Bucket=name, Delete={"Objects": doomed, "Quiet": True})
        if failed.get("Errors"):
            error = failed["Errors"][0]
            raise RuntimeError("%s/%s: %s" % (name, error["Key"], error["Code"]))


def empty_vault(name, context):
    while True:
        points = BACKUP.list_recovery_points_by_backup_vault(BackupVaultName=name)
        live = [p for p in points["RecoveryPoints"] if p.get("Status") != "DELETED"]
        if not live:
            return
        for point in live:
            if point.get("Status") != "DELETING":
                BACKUP.delete_recovery_point(
                    BackupVaultName=name, RecoveryPointArn=point["RecoveryPointArn"])
        if context.get_remaining_time_in_millis() < MARGIN_MS:
            raise RuntimeError("%s: %d recovery points still deleting" % (name, len(live)))
        time.sleep(10)


def empty(props, context):
    key, value = props["TagKey"], props["TagValue"]
    partition = context.invoked_function_arn.split(":")[1]
    for name in props.get("Buckets", []):
        if bucket_tags(name).get(key) == value:
            empty_bucket(name, partition)
            print("emptied bucket %s" % name)
    vault = props.get("Vault")
    if vault:
        found = tags(lambda: BACKUP.list_tags(ResourceArn=props["VaultArn"]))
        if found.get("Tags", {}).get(key) == value:
            empty_vault(vault, context)
            print("emptied vault %s" % vault)


def handler(event, context):
    physical_id = event.get("PhysicalResourceId") or event["LogicalResourceId"]
    status, reason = cfnresponse.FAILED, None
    try:
        if event["RequestType"] == "Delete" and stack_deleting(event["StackId"]):
            empty(event["ResourceProperties"], context)
        status = cfnresponse.SUCCESS
    except Exception as error:
        reason = "%s: %s" % (type(error).__name__, error)
        print(reason)
    finally:
        cfnresponse.send(event, context, status, {}, physical_id, reason=reason)
"""


# troposphere is untyped, hence the ignore; a Custom:: type takes any property.
class EmptyOnDelete(cloudformation.CustomResource):  # type: ignore[misc]
    resource_type = "Custom::EmptyOnDelete"


def render(ctx: Ctx, site: Site) -> None:
    for emptier in ctx.each(site, site.emptiers):
        if ctx.single or emptier.foundation == ctx.foundation:
            _emptier(ctx, site, emptier)


def lid(ctx: Ctx, site: Site, emptier: Emptier, kind: str = "") -> str:
    return ctx.lid(site, "FoundationEmptier" if emptier.foundation else "Emptier", kind)


def _emptier(ctx: Ctx, site: Site, emptier: Emptier) -> None:
    own_stack = {
        "Sid": "OwnStackStatus",
        "Effect": "Allow",
        "Action": ["cloudformation:DescribeStacks"],
        "Resource": [t.Ref("AWS::StackId")],
    }
    support.render(
        ctx,
        site,
        support.Helper(
            stem=lid(ctx, site, emptier),
            logs=emptier.log_group,
            waivers=emptier.waivers,
            trusted_for=emptier.service_conditions,
            does=f"replgen: empties the buckets and vault of {site.id} on stack delete",
            policy="empty-on-delete",
            # Emptying, and its own stack's status: it acts only while that is deleted.
            statements=[*ctx.policy(emptier.statements, site)["Statement"], own_stack],
            describe=f"replgen: CloudFormation custom resource emptying the buckets and "
            f"vault of {site.id} when their stack is deleted",
            code=CODE,
            timeout=TIMEOUT,
            concurrency=RESERVED_CONCURRENCY,
        ),
    )
    _resource(ctx, site, emptier)


def _targets(ctx: Ctx, site: Site, emptier: Emptier) -> list[str]:
    """What the emptier must be deleted before: its buckets (with their policies, whose
    removal then leaves no service allowed to write) and the vault."""
    out = []
    for key in emptier.buckets:
        bucket = ctx.component_lid(site, key, "Bucket")
        out += [bucket, policy_lid(bucket)]
    if emptier.vault:
        out.append(ctx.lid(site, "BackupVault"))
    return out


def _resource(ctx: Ctx, site: Site, emptier: Emptier) -> None:
    names = {b.key: b.name for b in site.buckets}
    vault: dict[str, str] = {}
    if emptier.vault:
        assert site.backup is not None  # the plan adds a vault emptier only where one is
        name = site.backup.vault
        vault_arn = arn("backup", site.region, site.account_id, f"backup-vault:{name}")
        vault = {"Vault": name, "VaultArn": vault_arn}
    key, value = emptier.tag
    ctx.add(
        EmptyOnDelete(
            lid(ctx, site, emptier),
            ServiceToken=t.GetAtt(lid(ctx, site, emptier, "Function"), "Arn"),
            ServiceTimeout=SERVICE_TIMEOUT,
            Buckets=[names[k] for k in emptier.buckets],
            TagKey=key,
            TagValue=value,
            DependsOn=_targets(ctx, site, emptier),
            **vault,
        )
    )
