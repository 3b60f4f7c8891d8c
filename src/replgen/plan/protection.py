"""What outlives deleting a site's stacks: decided once per site, after every component exists.

A protected site (the environment's `deletion_protection`, by default its `production`)
keeps its data: the backends turn on the clusters' deletion protection, leave a final
snapshot, retain keys, buckets and the backup vault, and lock the vault where the spec asks.
A destroyable site must really delete: what CloudFormation cannot delete while it holds
anything (buckets, the vault) is emptied first, and only there.
"""

from __future__ import annotations

from dataclasses import replace

from replgen.plan import waivers
from replgen.plan.arns import arn
from replgen.plan.iam import from_account
from replgen.plan.model import BackupPlan, Bucket, Emptier, LogGroup, Site, Statement, VaultLock
from replgen.plan.names import Namer
from replgen.spec.models import Spec

# KMS's longest wait before a deleted key is gone: the most time to cancel a mistake.
PROTECTED_KEY_WINDOW_DAYS = 30
DESTROYABLE_KEY_WINDOW_DAYS = 7  # the shortest: a destroyed environment frees it soon
MAX_RETENTION_DAYS = 35  # backup.retention_days' own limit: raising it needs no new lock
EMPTIER_LOG_DAYS = 30
_EMPTIER_LOGS = waivers.retention(EMPTIER_LOG_DAYS, waivers.Waiver.EMPTIER_LOG_RETENTION)


def attach(spec: Spec, namer: Namer, sites: list[Site]) -> list[Site]:
    return [
        _protected(spec, namer, s) if s.deletion_protection else _destroyable(namer, s)
        for s in sites
    ]


def final_snapshot(cluster_id: str) -> str:
    """The cluster's identity, so a reviewer knows where its data went; a second delete of
    a redeployed cluster of the same name must first rename or remove the first snapshot."""
    return f"{cluster_id}-final"


def _protected(spec: Spec, namer: Namer, site: Site) -> Site:
    db = site.database
    snapshot = namer.check("snapshot", final_snapshot(db.cluster_id))
    return replace(
        site,
        database=replace(db, final_snapshot=snapshot, waivers=_cluster(site)),
        key=replace(site.key, deletion_window_days=PROTECTED_KEY_WINDOW_DAYS),
        backup=_locked(spec, site.backup),
    )


def _locked(spec: Spec, backup: BackupPlan | None) -> BackupPlan | None:
    if backup is None or spec.backup is None or not spec.backup.vault_lock:
        return backup
    return replace(backup, lock=VaultLock(backup.retention_days, MAX_RETENTION_DAYS))


def _destroyable(namer: Namer, site: Site) -> Site:
    """One emptier per stack of the site that holds a bucket or the vault."""
    emptiers = []
    for foundation in (True, False):
        buckets = tuple(b for b in site.buckets if (b.key in site.foundation) == foundation)
        vault = site.backup if not foundation else None
        if buckets or vault:
            part = "foundation-emptier" if foundation else "emptier"
            name = namer.check("log", f"/replgen/{namer.prefix}/{site.slug}/{part}")
            emptiers.append(
                Emptier(
                    foundation,
                    LogGroup(name, EMPTIER_LOG_DAYS, _EMPTIER_LOGS),
                    tuple(b.key for b in buckets),
                    vault is not None,
                    _bucket_statements(site, buckets) + _vault_statements(site, vault),
                    service_conditions=from_account(site.account_id),
                    waivers=waivers.waive(
                        waivers.Waiver.EMPTIER_OUTSIDE_VPC, waivers.Waiver.INLINE_CODE_NOT_SIGNED
                    ),
                )
            )
    arns = tuple(
        arn("logs", site.region, site.account_id, f"log-group:{e.log_group.name}") for e in emptiers
    )
    key = replace(
        site.key,
        deletion_window_days=DESTROYABLE_KEY_WINDOW_DAYS,
        log_group_arns=site.key.log_group_arns + arns,
    )
    database = replace(site.database, waivers=_cluster(site))
    return replace(site, key=key, emptiers=tuple(emptiers), database=database)


def _cluster(site: Site) -> tuple[waivers.Waived, ...]:
    db = site.database
    return waivers.cluster(
        destroyable=not site.deletion_protection,
        backed_up=site.backup is not None,
        engine=db.engine,
        parameters=frozenset(name for name, _ in db.cluster_parameters),
    )


def _bucket_statements(site: Site, buckets: tuple[Bucket, ...]) -> tuple[Statement, ...]:
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


def _vault_statements(site: Site, vault: BackupPlan | None) -> tuple[Statement, ...]:
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
