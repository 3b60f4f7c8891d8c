"""The Global Database member's cluster settings (its generated, rotated master secret on
the primary) and the sessions global table."""

from __future__ import annotations

from replgen.plan.arns import arn, partition
from replgen.plan.components import site_key
from replgen.plan.dr.topology import Topology
from replgen.plan.model import GlobalTable, MasterSecret, Place, Ref

# Where each partition publishes AWS's rotation functions (Serverless Application
# Repository): the region and account of its `applications`.
ROTATION_REPOSITORY = {
    "aws": ("us-east-1", "297356227824"),
    "aws-cn": ("cn-north-1", "193023089310"),
    "aws-us-gov": ("us-gov-west-1", "023102451235"),
}
# engine -> the single-user rotation app and its version in each partition (the versions
# AWS CDK's SecretRotationApplication pins; each partition publishes its own).
ROTATION_APPS = {
    "aurora-postgresql": (
        "SecretsManagerRDSPostgreSQLRotationSingleUser",
        {"aws": "1.1.671", "aws-cn": "1.1.440", "aws-us-gov": "1.1.383"},
    ),
    "aurora-mysql": (
        "SecretsManagerRDSMySQLRotationSingleUser",
        {"aws": "1.1.671", "aws-cn": "1.1.440", "aws-us-gov": "1.1.384"},
    ),
}


# Characters the engines refuse in a master password, plus quotes that break connection URLs.
EXCLUDED_CHARACTERS = "\"'@/\\:?#[]%`"


SESSION_KEY, SESSION_TTL = "session_id", "expires_at"


def sessions_table(t: Topology) -> GlobalTable:
    return GlobalTable(
        t.table,
        SESSION_KEY,
        SESSION_TTL,
        tuple((m.region, Ref(m.id, "key", "arn")) for m in t.members),
    )


def global_settings(
    t: Topology, site: Place, cluster_id: str, engine: str, username: str
) -> tuple[MasterSecret | None, Ref | None]:
    """A member's master secret (the primary's: generated, rotated and replicated to every
    secondary's region) and the global cluster a secondary joins."""
    if not site.primary:
        return None, Ref(t.primary.id, "global_cluster", "id")
    app, versions = ROTATION_APPS[engine]
    where = partition(site.region)
    region, account = ROTATION_REPOSITORY[where]
    secret = MasterSecret(
        name=t.secret_name(),
        description=f"Master password of {cluster_id} (global cluster {t.global_cluster})",
        username=username,
        rotation_days=30,
        rotation_function=t.name("function", site, "rotate-master"),
        rotation_app=arn("serverlessrepo", region, account, f"applications/{app}"),
        rotation_version=versions[where],
        exclude_characters=EXCLUDED_CHARACTERS,
        password_length=32,  # Secrets Manager's default; every rotation keeps it
        # The functions group reaches the cluster and the VPC's endpoints; the database
        # group has no egress at all.
        security_group="functions",
        replicas=tuple((s.region, Ref(s.id, "key", "arn")) for s in t.secondaries),
        kms_key=site_key(site.id),
    )
    return secret, None
