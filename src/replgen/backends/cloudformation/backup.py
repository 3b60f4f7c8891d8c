"""AWS Backup: the site's vault (its key), a daily plan, and the selection of its clusters."""

from __future__ import annotations

import troposphere as t
from troposphere import backup

from replgen.backends.cloudformation import emptier
from replgen.backends.cloudformation.context import Ctx, emptied_tag, on_delete, tag_map
from replgen.plan.model import BackupPlan, Site


def render(ctx: Ctx, site: Site) -> None:
    if site.backup is not None:
        _vault(ctx, site, site.backup)
        _plan(ctx, site, site.backup)
        _selection(ctx, site, site.backup)


def _vault(ctx: Ctx, site: Site, plan: BackupPlan) -> None:
    lock = (
        # Governance mode: no ChangeableForDays, so the lock can still be lifted by someone
        # allowed to (compliance mode could never be undone).
        {
            "LockConfiguration": backup.LockConfigurationType(
                MinRetentionDays=plan.lock.min_retention_days,
                MaxRetentionDays=plan.lock.max_retention_days,
            )
        }
        if plan.lock
        else {}
    )
    ctx.add(
        backup.BackupVault(
            ctx.lid(site, "BackupVault"),
            BackupVaultName=plan.vault,
            EncryptionKeyArn=ctx.value(plan.kms_key, site),
            BackupVaultTags=tag_map(ctx.plan, **emptied_tag(site, "vault")),
            **lock,
            **on_delete(site),
        )
    )


def _plan(ctx: Ctx, site: Site, plan: BackupPlan) -> None:
    rule = backup.BackupRuleResourceType(
        RuleName=plan.rule,
        TargetBackupVault=t.Ref(ctx.lid(site, "BackupVault")),  # Ref is the vault's name
        ScheduleExpression=plan.schedule,
        StartWindowMinutes=plan.start_window_minutes,
        CompletionWindowMinutes=plan.completion_window_minutes,
        Lifecycle=backup.LifecycleResourceType(DeleteAfterDays=plan.retention_days),
    )
    ctx.add(
        backup.BackupPlan(
            ctx.lid(site, "BackupPlan"),
            BackupPlan=backup.BackupPlanResourceType(
                BackupPlanName=plan.plan, BackupPlanRule=[rule]
            ),
            BackupPlanTags=tag_map(ctx.plan),
            **_after_emptier(ctx, site),
        )
    )


def _selection(ctx: Ctx, site: Site, plan: BackupPlan) -> None:
    ctx.add(
        backup.BackupSelection(
            ctx.lid(site, "BackupSelection"),
            BackupPlanId=t.Ref(ctx.lid(site, "BackupPlan")),
            BackupSelection=backup.BackupSelectionResourceType(
                SelectionName=plan.selection,
                IamRoleArn=ctx.role_arn(site, plan.role),
                Resources=[ctx.value(r, site) for r in plan.resources],
            ),
        )
    )


def _after_emptier(ctx: Ctx, site: Site) -> dict[str, list[str]]:
    """The plan is deleted before the vault's emptier runs: no backup starts meanwhile."""
    lids = [emptier.lid(ctx, site, e) for e in site.emptiers if e.vault]
    return {"DependsOn": lids} if lids else {}
