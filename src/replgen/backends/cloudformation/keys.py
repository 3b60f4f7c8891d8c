"""The site's customer-managed KMS key and its alias (none where the key already exists)."""

from __future__ import annotations

import troposphere as t
import troposphere.kms as kms

from replgen.backends.cloudformation.context import Ctx, on_delete, tags
from replgen.plan import iam
from replgen.plan.model import Site


def render(ctx: Ctx, site: Site) -> None:
    if site.key.external_arn is not None or not ctx.owns(site, "key"):
        return  # created beforehand, or elsewhere; components read it through their kms_key Ref
    key = ctx.add(
        kms.Key(
            ctx.lid(site, "Key"),
            Description=site.key.description,
            EnableKeyRotation=site.key.rotation,
            PendingWindowInDays=site.key.deletion_window_days,
            KeyPolicy=iam.key_policy(site.key, site.region, site.account_id),
            Tags=tags(ctx.plan),
            # Retained where protected: without it no snapshot or recovery point can be read.
            **on_delete(site),
        )
    )
    ctx.add(kms.Alias(ctx.lid(site, "KeyAlias"), AliasName=site.key.alias, TargetKeyId=t.Ref(key)))
