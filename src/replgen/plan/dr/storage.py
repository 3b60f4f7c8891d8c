"""The members' replicated buckets and the role S3 replicates them with."""

from __future__ import annotations

from replgen.plan import waivers
from replgen.plan.arns import partition, role_arn, service_principal
from replgen.plan.components import site_key
from replgen.plan.dr.topology import Topology, bucket_arn, bucket_name
from replgen.plan.iam import from_account, via
from replgen.plan.model import (
    Bucket,
    Place,
    Ref,
    Replication,
    Role,
    Statement,
)


def dr_buckets(t: Topology, site: Place) -> tuple[Bucket, ...]:
    out = []
    for b in t.storage.buckets:
        replication: tuple[Replication, ...] = ()
        if b.replicate and site.primary:
            replication = tuple(
                Replication(
                    rule_id=f"replicate-to-{other.region}",
                    destination_bucket=bucket_arn(t, other, b.name),
                    destination_region=other.region,
                    destination_key=Ref(other.id, "key", "arn"),
                    role="role:replication",
                    time_minutes=15,
                )
                for other in t.secondaries
            )
        name, purpose = bucket_name(t, site, b.name), f"{b.name} for disaster recovery"
        replica_of = bucket_name(t, t.primary, b.name) if b.replicate and not site.primary else None
        local = waivers.not_replicated(name, purpose, site.id, replication, replica_of)
        out.append(
            Bucket(
                f"bucket:{b.name}",
                name,
                purpose,  # a Purpose tag: no parentheses
                kms_key=site_key(site.id),
                expire_days=b.expire_days,
                noncurrent_expire_days=30,
                access_log_bucket="bucket:access-logs",
                access_log_prefix=f"{b.name}/",
                replication=replication,
                replica_of=replica_of,
                waivers=waivers.bucket(log_target=False, logged=True, kms=True, local=local),
            )
        )
    return tuple(out)


def replication_role(t: Topology, site: Place, buckets: tuple[Bucket, ...]) -> Role:
    replicated = [b for b in buckets if b.replication]
    sources = tuple(f"arn:{partition(site.region)}:s3:::{b.name}" for b in replicated)
    targets = tuple(r.destination_bucket for b in replicated for r in b.replication)
    keys = tuple(dict.fromkeys(r.destination_key for b in replicated for r in b.replication))
    name = t.name("role", site, "replication")
    statements = (
        Statement(
            "ReadReplicationConfiguration",
            ("s3:GetReplicationConfiguration", "s3:ListBucket"),
            sources,
        ),
        Statement(
            "ReadSourceVersions",
            (
                "s3:GetObjectVersionForReplication",
                "s3:GetObjectVersionAcl",
                "s3:GetObjectVersionTagging",
            ),
            tuple(f"{s}/*" for s in sources),
        ),
        Statement(
            "WriteReplicas",
            ("s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"),
            tuple(f"{d}/*" for d in targets),
        ),
        Statement(
            "DecryptSource",
            ("kms:Decrypt",),
            (Ref(site.id, "key", "arn"),),
            via(site.region, "s3"),
        ),
        Statement(
            "EncryptReplicas",
            ("kms:Encrypt", "kms:GenerateDataKey"),
            keys,
            # S3 in each destination's region encrypts the replica there
            via(
                tuple(
                    dict.fromkeys(r.destination_region for b in replicated for r in b.replication)
                ),
                "s3",
            ),
        ),
    )
    return Role(
        "role:replication",
        name,
        role_arn(site.region, site.account_id, name),
        service_principal("s3", site.region),
        (),
        statements,
        service_conditions=from_account(site.account_id, *sources),
    )
