"""Both backends keep a protected site's data and let a destroyable one go completely.

The eu DR variant and four-envs' prod are protected (production, no opt-out); specs/dr.yaml
and four-envs' other environments are destroyable. CloudFormation is rendered in-process;
the CDKTF stacks come from the session's one synthesis (`both`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cfn_templates import Template, of_type, plan_of, render, skips, tag
from test_cdktf_output import stacks

EMPTIED = "replgen:empty-on-delete"
KEPT = {
    "AWS::RDS::DBCluster": "Snapshot",
    "AWS::RDS::GlobalCluster": "Retain",
    "AWS::KMS::Key": "Retain",
    "AWS::S3::Bucket": "Retain",
    "AWS::Backup::BackupVault": "Retain",
    "AWS::DynamoDB::GlobalTable": "Retain",
}
TABLE = "AWS::DynamoDB::GlobalTable"


@pytest.fixture(scope="module")
def cfn() -> dict[str, dict[str, Template]]:
    specs = (
        "specs/dr.yaml",
        "tests/specs/valid/dr-variant.yaml",
        "tests/specs/valid/four-envs.yaml",
    )
    return {Path(s).stem: render(plan_of(s)) for s in specs}


def _templates(files: dict[str, Template]) -> list[Template]:
    """The topology's own templates: bootstrap stacks outlive every destroy by design."""
    return [t for n, t in files.items() if n != "manifest.json" and not n.startswith("bootstrap")]


def _tags(kind: str, props: dict[str, Any]) -> dict[str, str]:
    if kind == "AWS::Backup::BackupVault":
        return dict(props.get("BackupVaultTags", {}))
    return {t["Key"]: t["Value"] for t in props.get("Tags", [])}


# ---------------------------------------------------------------- CloudFormation


def _cfn_protected(template: Template) -> int:
    seen = 0
    for kind, policy in KEPT.items():
        for resource in of_type(template, kind).values():
            seen += 1
            assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == (policy,) * 2
            assert EMPTIED not in _tags(kind, resource["Properties"])
    for kind in ("AWS::RDS::DBCluster", "AWS::RDS::GlobalCluster"):
        for resource in of_type(template, kind).values():
            assert resource["Properties"]["DeletionProtection"] is True
            assert "CKV_AWS_139" not in skips(resource)
    for instance in of_type(template, "AWS::RDS::DBInstance").values():
        # A stack delete stops at the cluster; the instances keep serving.
        assert (instance["DeletionPolicy"], instance["UpdateReplacePolicy"]) == ("Retain", "Delete")
    for key in of_type(template, "AWS::KMS::Key").values():
        assert key["Properties"]["PendingWindowInDays"] == 30
    for table in of_type(template, TABLE).values():
        assert all(r["DeletionProtectionEnabled"] for r in table["Properties"]["Replicas"])
    assert of_type(template, "Custom::EmptyOnDelete") == {}
    return seen


def test_cfn_protected_sites_keep_everything(cfn: dict[str, dict[str, Template]]) -> None:
    seen = sum(_cfn_protected(t) for t in _templates(cfn["dr-variant"]))
    seen += _cfn_protected(cfn["four-envs"]["prod.json"])
    assert seen >= 2 * (1 + 1 + 5) + 1 + 3, "clusters, keys, buckets and vaults were checked"
    vaults = [
        v
        for t in _templates(cfn["dr-variant"])
        for v in of_type(t, "AWS::Backup::BackupVault").values()
    ]
    assert len(vaults) == 2
    for vault in vaults:
        # Governance mode: no ChangeableForDays.
        assert vault["Properties"]["LockConfiguration"] == {
            "MinRetentionDays": 14,
            "MaxRetentionDays": 35,
        }


def _cfn_destroyable(template: Template) -> None:
    for kind in KEPT:
        for resource in of_type(template, kind).values():
            assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Delete",) * 2
    for kind in ("AWS::RDS::DBCluster", "AWS::RDS::GlobalCluster"):
        for resource in of_type(template, kind).values():
            assert resource["Properties"]["DeletionProtection"] is False
    for vault in of_type(template, "AWS::Backup::BackupVault").values():
        assert "LockConfiguration" not in vault["Properties"]
    for key in of_type(template, "AWS::KMS::Key").values():
        assert key["Properties"]["PendingWindowInDays"] == 7
    for table in of_type(template, TABLE).values():
        assert not any(r["DeletionProtectionEnabled"] for r in table["Properties"]["Replicas"])


def _emptier(template: Template) -> dict[str, Any] | None:
    found = of_type(template, "Custom::EmptyOnDelete")
    assert len(found) <= 1
    return next(iter(found.values()), None)


def _cfn_emptied(template: Template) -> int:
    """Whatever in the template can hold data is tagged, emptied first, and named exactly."""
    buckets = of_type(template, "AWS::S3::Bucket")
    vaults = of_type(template, "AWS::Backup::BackupVault")
    emptier = _emptier(template)
    if not buckets and not vaults:
        assert emptier is None
        return 0
    assert emptier is not None
    props = emptier["Properties"]
    names = [b["Properties"]["BucketName"] for b in buckets.values()]
    assert sorted(props["Buckets"]) == sorted(names)
    expected = set(buckets) | {f"{lid}Policy" for lid in buckets} | set(vaults)
    assert set(emptier["DependsOn"]) == expected
    for lid, resource in {**buckets, **vaults}.items():
        assert _tags(resource["Type"], resource["Properties"])[EMPTIED] == "true", lid
    for vault in vaults.values():
        assert props["Vault"] == vault["Properties"]["BackupVaultName"]
        assert props["VaultArn"].endswith(f":backup-vault:{props['Vault']}")
        # No backup starts while the vault is emptied: the plan is deleted first.
        (plan,) = of_type(template, "AWS::Backup::BackupPlan").values()
        assert plan["DependsOn"] == ["Emptier"]
    return len(buckets) + len(vaults)


def _emptier_policy(template: Template) -> list[dict[str, Any]]:
    roles = of_type(template, "AWS::IAM::Role")
    (role,) = [r for lid, r in roles.items() if lid.endswith("EmptierRole")]
    (policy,) = role["Properties"]["Policies"]
    return list(policy["PolicyDocument"]["Statement"])


def test_cfn_destroyable_sites_delete_completely(cfn: dict[str, dict[str, Template]]) -> None:
    emptied = 0
    for template in _templates(cfn["dr"]):
        _cfn_destroyable(template)
        emptied += _cfn_emptied(template)
    for name in ("dev.json", "qa.json", "staging.json"):
        _cfn_destroyable(cfn["four-envs"][name])
        emptied += _cfn_emptied(cfn["four-envs"][name])
    assert emptied == 2 * (4 + 1) + 3 * 2, "every bucket and vault of the destroyable sites"


def test_cfn_emptier_policy_names_exact_arns(cfn: dict[str, dict[str, Template]]) -> None:
    for name in ("prod-us-east-1-foundation.json", "prod-us-east-1.json"):
        for statement in _emptier_policy(cfn["dr"][name]):
            if statement["Sid"] == "Tracing":
                continue  # X-Ray has no resource-level permissions
            assert "*" not in statement["Resource"], statement
    foundation = _emptier_policy(cfn["dr"]["prod-us-east-1-foundation.json"])
    (listing,) = [s for s in foundation if s["Sid"] == "EmptyOwnBuckets"]
    buckets = of_type(cfn["dr"]["prod-us-east-1-foundation.json"], "AWS::S3::Bucket")
    assert sorted(listing["Resource"]) == sorted(
        f"arn:aws:s3:::{b['Properties']['BucketName']}" for b in buckets.values()
    )


def test_cfn_protected_and_destroyable_in_one_topology(cfn: dict[str, dict[str, Template]]) -> None:
    four = cfn["four-envs"]
    assert (
        tag(of_type(four["prod.json"], "AWS::RDS::DBCluster")["Cluster"]["Properties"], EMPTIED)
        is None
    )
    assert _emptier(four["prod.json"]) is None
    assert _emptier(four["dev.json"]) is not None


# ---------------------------------------------------------------- CDKTF


def _each(stack: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return list(stack.get("resource", {}).get(kind, {}).values())


def _tf_protected(stack: dict[str, Any]) -> int:
    seen = 0
    for cluster in _each(stack, "aws_rds_cluster"):
        assert cluster["deletion_protection"] is True
        assert cluster["skip_final_snapshot"] is False
        assert cluster["final_snapshot_identifier"] == f"{cluster['cluster_identifier']}-final"
        assert "CKV_AWS_139" not in str(cluster.get("//", ""))
    for kind in (
        "aws_rds_cluster",
        "aws_rds_global_cluster",
        "aws_kms_key",
        "aws_s3_bucket",
        "aws_backup_vault",
        "aws_dynamodb_table",
    ):
        for resource in _each(stack, kind):
            seen += 1
            assert resource["lifecycle"]["prevent_destroy"] is True, kind
    for resource in _each(stack, "aws_rds_global_cluster"):
        assert resource["deletion_protection"] is True
    for kind in ("aws_s3_bucket", "aws_backup_vault"):
        for resource in _each(stack, kind):
            assert resource["force_destroy"] is False
    for key in _each(stack, "aws_kms_key"):
        assert key["deletion_window_in_days"] == 30
    for table in _each(stack, "aws_dynamodb_table"):
        assert table["deletion_protection_enabled"] is True
        assert all(r["deletion_protection_enabled"] for r in table["replica"])
    return seen


def _tf_destroyable(stack: dict[str, Any]) -> None:
    for cluster in _each(stack, "aws_rds_cluster"):
        assert (cluster["deletion_protection"], cluster["skip_final_snapshot"]) == (False, True)
        assert "final_snapshot_identifier" not in cluster
    for kind in (
        "aws_rds_cluster",
        "aws_rds_global_cluster",
        "aws_kms_key",
        "aws_s3_bucket",
        "aws_backup_vault",
        "aws_dynamodb_table",
    ):
        for resource in _each(stack, kind):
            assert "prevent_destroy" not in resource.get("lifecycle", {}), kind
    for kind in ("aws_s3_bucket", "aws_backup_vault"):
        for resource in _each(stack, kind):
            assert resource["force_destroy"] is True  # Terraform empties them itself
    assert _each(stack, "aws_backup_vault_lock_configuration") == []
    for table in _each(stack, "aws_dynamodb_table"):
        assert table["deletion_protection_enabled"] is False
        assert not any(r["deletion_protection_enabled"] for r in table["replica"])


def test_cdktf_protected_sites_keep_everything(both: dict[str, Path]) -> None:
    variant = stacks(both["dr-variant"])
    seen = sum(_tf_protected(s) for s in variant.values())
    seen += _tf_protected(stacks(both["four-envs"])["ledger-t4-prod-eu-west-1"])
    assert seen >= 2 * (1 + 1 + 5 + 1) + 1 + 1 + 2
    locks = [
        lock for s in variant.values() for lock in _each(s, "aws_backup_vault_lock_configuration")
    ]
    assert len(locks) == 2
    for lock in locks:
        # Governance mode: no changeable_for_days.
        assert {k: v for k, v in lock.items() if k != "//"} == {
            "backup_vault_name": lock["backup_vault_name"],
            "min_retention_days": 14,
            "max_retention_days": 35,
        }


def test_cdktf_destroyable_sites_delete_completely(both: dict[str, Path]) -> None:
    for stack in stacks(both["dr"]).values():
        _tf_destroyable(stack)
    for stack in stacks(both["prod"]).values():
        _tf_destroyable(stack)
    four = stacks(both["four-envs"])
    _tf_destroyable(four["ledger-t4-nonprod-eu-west-1"])
