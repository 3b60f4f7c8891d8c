"""The site's AWS Backup vault (encrypted with the site key), its daily plan, and the
selection of the clusters it protects."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.backup_plan import (
    BackupPlan,
    BackupPlanRule,
    BackupPlanRuleLifecycle,
)
from cdktf_cdktf_provider_aws.backup_selection import BackupSelection
from cdktf_cdktf_provider_aws.backup_vault import BackupVault
from cdktf_cdktf_provider_aws.backup_vault_lock_configuration import (
    BackupVaultLockConfiguration,
)
from constructs import Construct

from replgen.backends.cdktf.context import Ctx, kept, tags
from replgen.plan.model import BackupPlan as PlanBackup
from replgen.plan.model import Site


class Backup(Construct):
    def __init__(self, scope: Construct, id: str, ctx: Ctx, site: Site) -> None:
        super().__init__(scope, id)
        self.ctx, self.site = ctx, site
        if site.backup is not None:
            self._backup(site.backup)

    def _backup(self, backup: PlanBackup) -> None:
        vault = BackupVault(
            self,
            "vault",
            name=backup.vault,
            kms_key_arn=self.ctx.value(backup.kms_key),
            # A destroyable site's recovery points go with it; a protected site keeps them.
            force_destroy=not self.site.deletion_protection,
            tags=tags(backup.vault),
            **kept(self.site),
        )
        if backup.lock is not None:
            # Governance mode: no changeable_for_days, so an allowed user can still lift it.
            BackupVaultLockConfiguration(
                self,
                "vault_lock",
                backup_vault_name=vault.name,
                min_retention_days=backup.lock.min_retention_days,
                max_retention_days=backup.lock.max_retention_days,
            )
        plan = BackupPlan(
            self,
            "plan",
            name=backup.plan,
            rule=[
                BackupPlanRule(
                    rule_name=backup.rule,
                    target_vault_name=vault.name,
                    schedule=backup.schedule,
                    start_window=backup.start_window_minutes,
                    completion_window=backup.completion_window_minutes,
                    lifecycle=BackupPlanRuleLifecycle(delete_after=backup.retention_days),
                )
            ],
            tags=tags(backup.plan),
        )
        BackupSelection(
            self,
            "selection",
            name=backup.selection,
            plan_id=plan.id,
            iam_role_arn=self.ctx.role_arn(self.site, backup.role),
            resources=[self.ctx.value(r) for r in backup.resources],
        )
