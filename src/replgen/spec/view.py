"""How a spec reads once its shorthands are expanded: sites and layered settings.

Each effective value remembers the key path it came from, so a rule that
rejects it can point at the line the user wrote (an environment's override or
the shared `defaults`), not at a merged value that exists nowhere in the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from replgen.errors import KeyPath
from replgen.spec.models import DatabaseSettings, Environment, NetworkSettings, Spec

# What replgen chooses when neither the environment nor `defaults` says.
DATABASE_FALLBACK: dict[str, Any] = {
    "instances": 1,
    "backup_retention_days": 7,
    "database_name": "appdb",
    "master_username": "replgen_admin",
    "global_": False,
}
NETWORK_FALLBACK: dict[str, Any] = {"azs": 2, "flow_log_retention_days": 90}
ENGINE_PORT = {"aurora-mysql": 3306, "aurora-postgresql": 5432}


@dataclass(frozen=True)
class Setting:
    value: Any
    path: KeyPath  # where the user wrote it; the environment's own key when defaulted


@dataclass(frozen=True)
class SiteEntry:
    """One (environment, region) pair as written in the spec."""

    id: str
    environment: str
    region: str | None
    cidr: str
    path: KeyPath  # the key holding this site's cidr
    primary: bool  # first region of the environment
    kms_key_arn: str | None


def site_entries(spec: Spec) -> list[SiteEntry]:
    out: list[SiteEntry] = []
    for name, env in spec.environments.items():
        out.extend(_env_sites(spec, name, env))
    return out


def _env_sites(spec: Spec, name: str, env: Environment) -> list[SiteEntry]:
    base: KeyPath = ("environments", name)
    if env.regions:
        return [
            SiteEntry(
                f"{name}/{region}",
                name,
                region,
                site.cidr,
                (*base, "regions", region, "cidr"),
                i == 0,
                site.kms_key_arn or env.kms_key_arn,
            )
            for i, (region, site) in enumerate(env.regions.items())
        ]
    region = env.region or spec.region
    return [SiteEntry(name, name, region, env.cidr or "", (*base, "cidr"), True, env.kms_key_arn)]


def _layered(spec: Spec, env: str, section: str, fallback: dict[str, Any]) -> dict[str, Setting]:
    """Field -> effective setting for `database` or `network`, environment over defaults."""
    own: DatabaseSettings | NetworkSettings = getattr(spec.environments[env], section)
    shared: DatabaseSettings | NetworkSettings = getattr(spec.defaults, section)
    out: dict[str, Setting] = {}
    for field, info in type(own).model_fields.items():
        key = info.alias or field
        # `azs: null` says nothing: the layer below (or replgen's fallback) decides.
        if field in own.model_fields_set and getattr(own, field) is not None:
            out[field] = Setting(getattr(own, field), ("environments", env, section, key))
        elif field in shared.model_fields_set and getattr(shared, field) is not None:
            out[field] = Setting(getattr(shared, field), ("defaults", section, key))
        else:
            out[field] = Setting(fallback.get(field), ("environments", env))
    return out


def database_settings(spec: Spec, env: str) -> dict[str, Setting]:
    return _layered(spec, env, "database", DATABASE_FALLBACK)


def network_settings(spec: Spec, env: str) -> dict[str, Setting]:
    return _layered(spec, env, "network", NETWORK_FALLBACK)


def resolve_site(spec: Spec, ref: str) -> SiteEntry | None:
    """The site a peering end or `runs_in` names: `env` or `env/region`."""
    for site in site_entries(spec):
        if site.id == ref:
            return site
    return None


def deletion_protection(spec: Spec, env: str) -> bool:
    """Whether an environment keeps its data when its stacks are deleted: as the spec says,
    else protected exactly when it is production."""
    environment = spec.environments[env]
    if environment.deletion_protection is None:
        return environment.production
    return environment.deletion_protection
