"""The site's customer-managed KMS key and its alias (none where the key already exists)."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct

from replgen.backends.cdktf.context import Ctx, document, kept
from replgen.plan import iam
from replgen.plan.model import Site


class Keys(Construct):
    def __init__(self, scope: Construct, id: str, ctx: Ctx, site: Site) -> None:
        super().__init__(scope, id)
        if not ctx.here(site, "key"):
            return  # built in the site's foundation stack, read through its output
        if site.key.external_arn is not None:
            ctx.put(site, "key", "arn", site.key.external_arn)  # created beforehand
            return
        key = KmsKey(
            self,
            "key",
            description=site.key.description,
            enable_key_rotation=site.key.rotation,
            deletion_window_in_days=site.key.deletion_window_days,
            policy=document(iam.key_policy(site.key, site.region, site.account_id)),
            # Kept where protected: without it no snapshot or recovery point can be read.
            **kept(site),
        )
        KmsAlias(self, "alias", name=site.key.alias, target_key_id=key.key_id)
        ctx.put(site, "key", "arn", key.arn)
