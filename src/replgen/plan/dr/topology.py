"""What every part of the disaster-recovery plan reads: the members, the primary, the
names, and the spec's sections, gathered once (`Topology`)."""

from __future__ import annotations

from replgen.plan.arns import arn, partition
from replgen.plan.context import Context
from replgen.plan.model import Site
from replgen.spec.models import Spec
from replgen.spec.view import database_settings


def environment(spec: Spec) -> str | None:
    """The environment disaster recovery protects: the one whose database is global."""
    if spec.disaster_recovery is None:
        return None
    return next(e for e in spec.environments if database_settings(spec, e)["global_"].value)


class Topology:
    def __init__(self, ctx: Context, members: list[Site]) -> None:
        spec = ctx.spec
        assert spec.disaster_recovery and spec.processing and spec.sessions and spec.storage
        self.ctx = ctx
        self.dr = spec.disaster_recovery
        self.processing = spec.processing
        self.storage = spec.storage
        self.members = members
        self.primary = next(s for s in members if s.primary)
        self.secondaries = [s for s in members if not s.primary]
        self.record = f"{self.dr.dns.record}.{self.dr.dns.zone}"
        self.table = ctx.namer.make("table", self.primary.environment, spec.sessions.table)
        assert spec.api is not None  # the rules require it wherever processing is
        self.api = spec.api
        assert self.primary.database.global_cluster_id is not None
        self.global_cluster: str = self.primary.database.global_cluster_id

    def regional(self, site: Site) -> str:
        return f"{site.region}.{self.record}"

    def name(self, service: str, site: Site, *parts: str) -> str:
        return self.ctx.namer.make(service, site.slug, *parts)

    def failover_functions(self) -> tuple[tuple[str, str], ...]:
        """(name, ARN) of the failover function of every secondary."""
        names = [(s, self.name("function", s, "failover")) for s in self.secondaries]
        return tuple(
            (name, arn("lambda", s.region, s.account_id, f"function:{name}")) for s, name in names
        )

    def secret_name(self) -> str:
        return self.ctx.namer.make("secret", self.primary.slug, "master")


def bucket_name(t: Topology, site: Site, name: str) -> str:
    return t.name("bucket", site, name, site.account_id)


def bucket_arn(t: Topology, site: Site, name: str) -> str:
    return f"arn:{partition(site.region)}:s3:::{bucket_name(t, site, name)}"


def queue_url(site: Site, name: str) -> str:
    return f"https://sqs.{site.region}.amazonaws.com/{site.account_id}/{name}"


def log_bucket(t: Topology, site: Site) -> str:
    """The first bucket of `storage`: the spec lists the transaction log first."""
    return bucket_name(t, site, t.storage.buckets[0].name)


def queue_name(t: Topology, site: Site) -> str:
    return t.name("queue", site, t.processing.queue)
