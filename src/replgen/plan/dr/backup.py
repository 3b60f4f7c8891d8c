"""AWS Backup of each member's cluster: the vault, the daily plan, and the role it runs with."""

from __future__ import annotations

from replgen.plan.arns import arn, role_arn, service_principal
from replgen.plan.components import site_key
from replgen.plan.dr.topology import Topology
from replgen.plan.model import (
    BackupPlan,
    Place,
    Ref,
    Role,
)
from replgen.plan.protection import vault_lock


def backup_plan(t: Topology, site: Place) -> BackupPlan | None:
    spec = t.ctx.spec.backup
    if spec is None:
        return None
    return BackupPlan(
        vault=t.name("vault", site),
        plan=t.name("tag", site, "backup"),
        rule="daily",
        selection=t.name("tag", site, "clusters"),
        schedule=spec.schedule,
        start_window_minutes=60,
        completion_window_minutes=180,
        retention_days=spec.retention_days,
        role="role:backup",
        resources=(Ref(site.id, "cluster", "arn"),),
        kms_key=site_key(site.id),
        lock=vault_lock(t.ctx.spec, site, spec.retention_days),
    )


def backup_role(t: Topology, site: Place) -> Role:
    name = t.name("role", site, "backup")
    # Backups only: a restore is a person's decision, made with a role of their own.
    policies = (
        arn(
            "iam",
            site.region,
            "aws",
            "policy/service-role/AWSBackupServiceRolePolicyForBackup",
            regional=False,
        ),
    )
    return Role(
        "role:backup",
        name,
        role_arn(site.region, site.account_id, name),
        service_principal("backup", site.region),
        (),
        (),
        policies,
        # No aws:SourceAccount here: AWS Backup documents those keys for resource policies
        # (vault notifications, key policies), not for the role a backup job assumes; a
        # condition the service does not send would stop every backup without an error.
    )
