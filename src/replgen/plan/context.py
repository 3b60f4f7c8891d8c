"""What every component builder reads while a plan is built: the spec, the namer, the
sites, the artifacts and the quota limits. Its own module, so that the builders of each
component (build, sync, dr) import it without importing each other."""

from __future__ import annotations

from dataclasses import dataclass

from replgen.plan import quotas
from replgen.plan.model import Code, LogGroup, Ref
from replgen.plan.names import Namer
from replgen.plan.waivers import Waiver, retention
from replgen.spec.models import Spec
from replgen.spec.view import ENGINE_PORT, SiteEntry, database_settings


@dataclass(frozen=True)
class Context:
    """What every component builder may read: the spec, the namer and the site list."""

    spec: Spec
    namer: Namer
    entries: tuple[SiteEntry, ...]
    artifacts: dict[str, Code]
    limits: quotas.Limits

    def entry(self, site_id: str) -> SiteEntry:
        return next(e for e in self.entries if e.id == site_id)

    def account(self, entry: SiteEntry) -> str:
        return self.spec.accounts[self.spec.environments[entry.environment].account]

    def region(self, entry: SiteEntry) -> str:
        assert entry.region is not None  # the rules guarantee every site has a region
        return entry.region

    def port(self, env: str) -> int:
        db = database_settings(self.spec, env)
        return int(db["port"].value or ENGINE_PORT[db["engine"].value])

    def primary_site(self, env: str) -> SiteEntry:
        return next(e for e in self.entries if e.environment == env and e.primary)


def slug(entry: SiteEntry) -> str:
    return entry.id.replace("/", "-")


def function_logs(name: str, days: int, key: Ref) -> LogGroup:
    """A log group kept for the topology's functions.log_retention_days."""
    return LogGroup(name, days, key, retention(days, Waiver.FUNCTION_LOG_RETENTION))


def lambda_logs(ctx: Context, function: str, key: Ref) -> LogGroup:
    """The log group Lambda writes a function's logs to (`/aws/lambda/<name>`)."""
    name = ctx.namer.check("log", f"/aws/lambda/{function}")
    return function_logs(name, ctx.spec.functions.log_retention_days, key)
