"""What every part of the disaster-recovery plan reads: the members, the primary, the
names, and the spec's sections, gathered once (`Topology`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from replgen.plan.arns import arn, partition
from replgen.plan.context import Context
from replgen.plan.model import Database, Place, SiteId, Topic
from replgen.spec.models import Spec
from replgen.spec.view import database_settings


def environment(spec: Spec) -> str | None:
    """The environment disaster recovery protects: the one whose database is global."""
    if spec.disaster_recovery is None:
        return None
    return next(e for e in spec.environments if database_settings(spec, e)["global_"].value)


@dataclass(frozen=True)
class Member(Place):
    """A member site as disaster recovery builds on it: its identity, and the components
    of its own that recovery reads (the cluster it promotes, the topic it alerts)."""

    database: Database
    topic: Topic


class Topology:
    def __init__(
        self,
        ctx: Context,
        members: list[Place],
        clusters: Mapping[SiteId, str],
        topics: Mapping[SiteId, str],
    ) -> None:
        spec = ctx.spec
        assert spec.disaster_recovery and spec.processing and spec.sessions and spec.storage
        self.ctx = ctx
        self.dr = spec.disaster_recovery
        self.processing = spec.processing
        self.storage = spec.storage
        self.members = members
        # Every member's cluster and alerts topic, by name: one member's failover reads them.
        self.clusters, self.topics = clusters, topics
        self.primary = next(s for s in members if s.primary)
        self.secondaries = [s for s in members if not s.primary]
        self.record = f"{self.dr.dns.record}.{self.dr.dns.zone}"
        self.table = ctx.namer.make("table", self.primary.environment, spec.sessions.table)
        assert spec.api is not None  # the rules require it wherever processing is
        self.api = spec.api
        self.global_cluster = global_cluster(ctx, self.primary.environment)

    def regional(self, site: Place) -> str:
        return f"{site.region}.{self.record}"

    def name(self, service: str, site: Place, *parts: str) -> str:
        return self.ctx.namer.make(service, site.slug, *parts)

    def failover_functions(self) -> tuple[tuple[str, str], ...]:
        """(name, ARN) of the failover function of every secondary."""
        names = [(s, self.name("function", s, "failover")) for s in self.secondaries]
        return tuple(
            (name, arn("lambda", s.region, s.account_id, f"function:{name}")) for s, name in names
        )

    def secret_name(self) -> str:
        return self.ctx.namer.make("secret", self.primary.slug, "master")


def global_cluster(ctx: Context, env: str) -> str:
    """The Global Database's identifier: its environment's, whichever region is primary."""
    return ctx.namer.make("cluster", env, "global")


def bucket_name(t: Topology, site: Place, name: str) -> str:
    return t.name("bucket", site, name, site.account_id)


def bucket_arn(t: Topology, site: Place, name: str) -> str:
    return f"arn:{partition(site.region)}:s3:::{bucket_name(t, site, name)}"


def queue_url(site: Place, name: str) -> str:
    return f"https://sqs.{site.region}.amazonaws.com/{site.account_id}/{name}"


def log_bucket(t: Topology, site: Place) -> str:
    """The first bucket of `storage`: the spec lists the transaction log first."""
    return bucket_name(t, site, t.storage.buckets[0].name)


def queue_name(t: Topology, site: Place) -> str:
    return t.name("queue", site, t.processing.queue)
