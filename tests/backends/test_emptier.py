"""The CloudFormation emptier's inline code, run against moto: on Delete, while its stack is
being deleted, it empties a tagged bucket (every version and delete marker) and deletes a
tagged vault's recovery points, and touches nothing else.

moto 5 models backup vaults and their tags but not recovery points: `recovery_points` adds
the two calls the emptier makes (list by vault, delete) to moto's own backup service, so the
client still goes through botocore's serialisation and moto's routing.
"""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import boto3
import pytest
from moto import mock_aws
from moto.backup import urls as backup_urls
from moto.backup.responses import BackupResponse
from moto.cloudformation.models import cloudformation_backends
from moto.core import DEFAULT_ACCOUNT_ID

from replgen.backends.cloudformation.emptier import CODE

REGION = "us-east-1"
TAG = ("replgen:empty-on-delete", "true")
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:emptier"


class Context:
    invoked_function_arn = FUNCTION_ARN
    log_stream_name = "stream"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


@pytest.fixture()
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield


@pytest.fixture()
def recovery_points(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """vault name -> recovery point ARNs, served through moto's backup endpoint."""
    points: dict[str, list[str]] = {}

    def list_points(self: BackupResponse) -> str:
        name = unquote(self.uri_match["backupVaultName"])
        listed = [{"RecoveryPointArn": a, "Status": "COMPLETED"} for a in points.get(name, [])]
        return json.dumps({"RecoveryPoints": listed})

    def delete_point(self: BackupResponse) -> str:
        name = unquote(self.uri_match["backupVaultName"])
        points[name].remove(unquote(self.uri_match["recoveryPointArn"]))
        return "{}"

    monkeypatch.setitem(
        backup_urls.url_paths,
        "{0}/backup-vaults/(?P<name>[^/]+)/recovery-points/.*$",
        BackupResponse.dispatch,
    )
    monkeypatch.setattr(
        BackupResponse, "list_recovery_points_by_backup_vault", list_points, raising=False
    )
    monkeypatch.setattr(BackupResponse, "delete_recovery_point", delete_point, raising=False)
    return points


@pytest.fixture()
def handler(aws: None, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, list[dict[str, Any]]]:
    """The inline code as Lambda loads it, with `cfnresponse` (which Lambda provides to
    inline code) recording what it would answer CloudFormation."""
    answers: list[dict[str, Any]] = []
    fake = types.ModuleType("cfnresponse")
    fake.SUCCESS, fake.FAILED = "SUCCESS", "FAILED"  # type: ignore[attr-defined]

    def send(event: Any, context: Any, status: str, data: Any, physical: str, **kw: Any) -> None:
        answers.append({"status": status, "physical": physical, **kw})

    fake.send = send  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "cfnresponse", fake)
    namespace: dict[str, Any] = {}
    exec(compile(CODE, "index.py", "exec"), namespace)  # the code under test, as Lambda runs it
    namespace["time"].sleep = lambda seconds: None  # recovery points here go at once
    return namespace["handler"], answers


@pytest.fixture()
def stack(aws: None) -> Any:
    """The emptier's own stack, in moto; a test sets the status CloudFormation would be in
    when it sends the Delete (moto's own delete completes at once)."""
    cfn = boto3.client("cloudformation", region_name=REGION)
    template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}
    stack_id = cfn.create_stack(StackName="site", TemplateBody=json.dumps(template))["StackId"]
    return cloudformation_backends[DEFAULT_ACCOUNT_ID][REGION].stacks[stack_id]


def _bucket(s3: Any, name: str, tagged: bool) -> None:
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    if tagged:
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": TAG[0], "Value": TAG[1]}]})
    for body in (b"v1", b"v2", b"v3"):
        s3.put_object(Bucket=name, Key="logs/a.txt", Body=body)
    s3.put_object(Bucket=name, Key="b.txt", Body=b"b")
    s3.delete_object(Bucket=name, Key="b.txt")  # a delete marker over a version


def _versions(s3: Any, name: str) -> int:
    page = s3.list_object_versions(Bucket=name)
    return len(page.get("Versions", [])) + len(page.get("DeleteMarkers", []))


def _vault(backup: Any, name: str, tagged: bool) -> str:
    tags = {TAG[0]: TAG[1]} if tagged else {}
    created = backup.create_backup_vault(BackupVaultName=name, BackupVaultTags=tags)
    return str(created["BackupVaultArn"])


def _event(
    stack: Any, kind: str, buckets: list[str], vault: str | None, vault_arn: str | None
) -> dict:
    props: dict[str, Any] = {"Buckets": buckets, "TagKey": TAG[0], "TagValue": TAG[1]}
    if vault:
        props |= {"Vault": vault, "VaultArn": vault_arn}
    event = {
        "RequestType": kind,
        "StackId": stack.stack_id,
        "LogicalResourceId": "Emptier",
        "ResourceProperties": props,
    }
    return event if kind == "Create" else event | {"PhysicalResourceId": "Emptier"}


@pytest.mark.parametrize("status", ["DELETE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS"])
def test_delete_empties_tagged_buckets_and_vault(
    handler: Any, recovery_points: dict, stack: Any, status: str
) -> None:
    run, answers = handler
    stack.status = status
    s3, backup = boto3.client("s3", region_name=REGION), boto3.client("backup", REGION)
    _bucket(s3, "logs-tagged", tagged=True)
    _bucket(s3, "docs-tagged", tagged=True)
    assert _versions(s3, "logs-tagged") == 5
    vault_arn = _vault(backup, "vault", tagged=True)
    points = [
        "arn:aws:rds:us-east-1:123456789012:cluster-snapshot:awsbackup:job-1",
        "arn:aws:rds:us-east-1:123456789012:cluster-snapshot:awsbackup:job-2",
    ]
    recovery_points["vault"] = list(points)
    listed = backup.list_recovery_points_by_backup_vault(BackupVaultName="vault")
    assert [p["RecoveryPointArn"] for p in listed["RecoveryPoints"]] == points

    run(_event(stack, "Delete", ["logs-tagged", "docs-tagged"], "vault", vault_arn), Context())

    assert answers == [{"status": "SUCCESS", "physical": "Emptier", "reason": None}]
    assert _versions(s3, "logs-tagged") == 0 and _versions(s3, "docs-tagged") == 0
    assert recovery_points["vault"] == []
    # Nothing can write while the stack deletes the bucket: log delivery, replication.
    policy = json.loads(s3.get_bucket_policy(Bucket="logs-tagged")["Policy"])
    assert policy["Statement"] == [
        {
            "Sid": "Emptying",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::logs-tagged/*",
        }
    ]
    s3.delete_bucket(Bucket="logs-tagged")  # what CloudFormation does next now succeeds
    backup.delete_backup_vault(BackupVaultName="vault")


def test_delete_leaves_untagged_ones_alone(handler: Any, recovery_points: dict, stack: Any) -> None:
    """The site became protected: the update removed the tag, then the emptier."""
    run, answers = handler
    stack.status = "DELETE_IN_PROGRESS"
    s3, backup = boto3.client("s3", region_name=REGION), boto3.client("backup", REGION)
    _bucket(s3, "kept", tagged=False)
    vault_arn = _vault(backup, "kept-vault", tagged=False)
    recovery_points["kept-vault"] = ["arn:aws:backup:us-east-1:123456789012:recovery-point:1"]

    run(_event(stack, "Delete", ["kept", "gone-already"], "kept-vault", vault_arn), Context())

    assert answers[0]["status"] == "SUCCESS"
    assert _versions(s3, "kept") == 5
    assert recovery_points["kept-vault"] == [
        "arn:aws:backup:us-east-1:123456789012:recovery-point:1"
    ]
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy(Bucket="kept")


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("Create", "CREATE_IN_PROGRESS"),
        ("Update", "UPDATE_IN_PROGRESS"),
        # An update that removed or renamed the emptier: the stack and its buckets stay.
        ("Delete", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"),
        ("Delete", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"),
    ],
)
def test_nothing_is_emptied_unless_the_stack_goes(
    handler: Any, stack: Any, kind: str, status: str
) -> None:
    run, answers = handler
    stack.status = status
    s3 = boto3.client("s3", region_name=REGION)
    _bucket(s3, "live", tagged=True)

    run(_event(stack, kind, ["live"], None, None), Context())

    assert answers == [{"status": "SUCCESS", "physical": "Emptier", "reason": None}]
    assert _versions(s3, "live") == 5


def test_a_failure_is_reported_to_cloudformation(handler: Any, stack: Any) -> None:
    """No recovery-point API (moto's own backup service): the delete fails, and says why."""
    run, answers = handler
    stack.status = "DELETE_IN_PROGRESS"
    backup = boto3.client("backup", REGION)
    vault_arn = _vault(backup, "vault", tagged=True)

    run(_event(stack, "Delete", [], "vault", vault_arn), Context())

    assert answers[0]["status"] == "FAILED"
    assert answers[0]["physical"] == "Emptier"
    assert answers[0]["reason"].startswith("ClientError: ")
