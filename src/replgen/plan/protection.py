"""What outlives deleting a site's stacks: decided once per site, from its other parts.

A protected site (the environment's `deletion_protection`, by default its `production`)
keeps its data: the backends turn on the clusters' deletion protection, leave a final
snapshot, retain keys, buckets and the backup vault, and lock the vault where the spec asks.
A destroyable site must really delete: what CloudFormation cannot delete while it holds
anything (buckets, the vault) is emptied first, and only there.
"""

from __future__ import annotations

from replgen.plan import waivers
from replgen.plan.arns import arn
from replgen.plan.components import site_key
from replgen.plan.iam import from_account
from replgen.plan.model import BackupPlan, Bucket, Emptier, LogGroup, Place, Statement, VaultLock
from replgen.plan.names import Namer
from replgen.plan.parts import Parts
from replgen.spec.models import Spec

# KMS's longest wait before a deleted key is gone: the most time to cancel a mistake.
PROTECTED_KEY_WINDOW_DAYS = 30
DESTROYABLE_KEY_WINDOW_DAYS = 7  # the shortest: a destroyed environment frees it soon
MAX_RETENTION_DAYS = 35  # backup.retention_days' own limit: raising it needs no new lock
EMPTIER_LOG_DAYS = 30
_EMPTIER_LOGS = waivers.retention(EMPTIER_LOG_DAYS, waivers.Waiver.EMPTIER_LOG_RETENTION)


def key_window(site: Place) -> int:
    return PROTECTED_KEY_WINDOW_DAYS if site.deletion_protection else DESTROYABLE_KEY_WINDOW_DAYS


def final_snapshot(namer: Namer, site: Place, cluster_id: str) -> str | None:
    """Where a protected cluster's data goes when it is deleted: a snapshot named after the
    cluster, so a reviewer knows where it went (a second delete of a redeployed cluster of
    the same name must first rename or remove the first snapshot)."""
    if not site.deletion_protection:
        return None
    return namer.check("snapshot", f"{cluster_id}-final")


def vault_lock(spec: Spec, site: Place, retention_days: int) -> VaultLock | None:
    if not site.deletion_protection or spec.backup is None or not spec.backup.vault_lock:
        return None
    return VaultLock(retention_days, MAX_RETENTION_DAYS)


def parts(namer: Namer, site: Place, so_far: Parts) -> Parts:
    """A destroyable site's emptiers: one per stack of the site that holds a bucket or
    the vault. A protected site keeps what it holds, and needs none."""
    if site.deletion_protection:
        return Parts()
    emptiers = []
    for foundation in (True, False):
        buckets = tuple(b for b in so_far.buckets if (b.key in so_far.foundation) == foundation)
        vault = so_far.backup if not foundation else None
        if buckets or vault:
            part = "foundation-emptier" if foundation else "emptier"
            name = namer.check("log", f"/replgen/{namer.prefix}/{site.slug}/{part}")
            emptiers.append(
                Emptier(
                    foundation,
                    LogGroup(name, EMPTIER_LOG_DAYS, site_key(site.id), _EMPTIER_LOGS),
                    tuple(b.key for b in buckets),
                    vault is not None,
                    _bucket_statements(site, buckets) + _vault_statements(site, vault),
                    service_conditions=from_account(site.account_id),
                    waivers=waivers.waive(
                        waivers.Waiver.EMPTIER_OUTSIDE_VPC, waivers.Waiver.INLINE_CODE_NOT_SIGNED
                    ),
                )
            )
    return Parts(
        emptiers=tuple(emptiers),
        log_groups=tuple(e.log_group for e in emptiers),
        foundation=tuple(e.key for e in emptiers if e.foundation),
    )


def _bucket_statements(site: Place, buckets: tuple[Bucket, ...]) -> tuple[Statement, ...]:
    if not buckets:
        return ()
    arns = tuple(arn("s3", site.region, "", b.name, regional=False) for b in buckets)
    return (
        # Read the tag that allows emptying; refuse writes while emptying (log delivery,
        # replication); list every version and delete marker.
        Statement(
            "EmptyOwnBuckets",
            ("s3:GetBucketTagging", "s3:PutBucketPolicy", "s3:ListBucketVersions"),
            arns,
        ),
        Statement("DeleteOwnObjectVersions", ("s3:DeleteObjectVersion",), _objects(arns)),
    )


def _objects(bucket_arns: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"{a}/*" for a in bucket_arns)


def _vault_statements(site: Place, vault: BackupPlan | None) -> tuple[Statement, ...]:
    if vault is None:
        return ()
    region, account = site.region, site.account_id
    return (
        Statement(
            "ReadOwnVault",
            ("backup:ListTags", "backup:ListRecoveryPointsByBackupVault"),
            (arn("backup", region, account, f"backup-vault:{vault.vault}"),),
        ),
        # A recovery point's id is made by each backup, so its ARN is known only by prefix:
        # AWS Backup's own points in this account and region. An Aurora point is an RDS
        # snapshot that AWS Backup names `awsbackup:job-<id>`; deleting it takes both rights.
        Statement(
            "DeleteRecoveryPoints",
            ("backup:DeleteRecoveryPoint", "rds:DeleteDBClusterSnapshot"),
            (
                arn("backup", region, account, "recovery-point:*"),
                arn("rds", region, account, "cluster-snapshot:awsbackup:job-*"),
            ),
        ),
    )
