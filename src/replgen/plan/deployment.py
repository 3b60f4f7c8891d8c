"""What a deployment needs beyond the stacks themselves, decided once for every backend.

- The bootstrap of each account and region the topology uses: a bucket for the Lambda
  zips and, where the topology spans accounts, the role deployments assume there (created
  once per account: IAM is global). Like `cdk bootstrap`, it exists before anything else.
- The pauses: points in the deploy order where a human must act before the next stack
  (delegating the disaster-recovery zone before certificates validate in it).
"""

from __future__ import annotations

import hashlib

from replgen.plan.model import Bootstrap, Pause, Ref, Site
from replgen.plan.waivers import Waiver, waive

ARTIFACT_PREFIX = "replgen/"  # where `replgen package` output is uploaded in the bucket
NONCURRENT_DAYS = 30  # old zips stay this long after a newer one replaces them


def bootstraps(
    prefix: str, sites: list[Site], deploy_role: str | None, deploy_from: str | None = None
) -> tuple[Bootstrap, ...]:
    """One per (account, region), in site order; the role only in an account's first."""
    # Bucket names are global: the topology's hash keeps two topologies (or two suffixes) in
    # one account apart, and the name within 63 characters whatever the name and suffix.
    digest = hashlib.sha256(prefix.encode()).hexdigest()[:8]
    out: list[Bootstrap] = []
    seen_accounts: set[str] = set()
    for site in sites:
        if any(b.account_id == site.account_id and b.region == site.region for b in out):
            continue
        role = deploy_role if deploy_role and site.account_id not in seen_accounts else None
        seen_accounts.add(site.account_id)
        out.append(
            Bootstrap(
                slug=f"{site.account_id}-{site.region}",
                account_id=site.account_id,
                region=site.region,
                bucket=f"replgen-{digest}-{site.account_id}-{site.region}",
                artifact_prefix=ARTIFACT_PREFIX,
                noncurrent_days=NONCURRENT_DAYS,
                deploy_role=role,
                deploy_from=deploy_from if role else None,
                bucket_waivers=waive(
                    Waiver.NO_EVENT_NOTIFICATIONS,
                    Waiver.ARTIFACTS_NOT_LOGGED,
                    Waiver.ARTIFACTS_NOT_REPLICATED,
                ),
                role_waivers=waive(Waiver.DEPLOY_ROLE_ADMINISTERS, Waiver.DEPLOYING_ACCOUNT_TRUST)
                if role
                else (),
            )
        )
    return tuple(out)


def pauses(sites: list[Site]) -> tuple[Pause, ...]:
    return tuple(
        Pause(
            site.id,
            "zone",
            f"delegate {site.zone.name} from its parent domain to the name servers below "
            "(an NS record set in the parent zone): the certificates of the stacks that "
            "follow are validated by DNS in this zone and wait until it resolves",
            (Ref(site.id, "zone", "name_servers"),),
        )
        for site in sites
        if site.zone is not None
    )
