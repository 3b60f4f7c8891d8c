"""Parse and validate REPLSYNC_CONFIG (JSON written by the infrastructure)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from replsync.errors import ConfigError

ENV_VAR = "REPLSYNC_CONFIG"


# The sync's own database user, where the configuration names none.
DEFAULT_USER = "replgen_sync"


@dataclass(frozen=True)
class Environment:
    """One environment's database. At run time the sync connects as ``user`` with an IAM
    token (signed with ``role_arn``'s credentials where there is one). ``secret_arn`` (the
    master secret) is configured only for the deploy-time bootstrap, which creates ``user``."""

    name: str
    host: str
    port: int
    dbname: str
    secret_arn: str | None = None
    role_arn: str | None = None
    production: bool = False
    user: str = DEFAULT_USER
    region: str | None = None  # the cluster's region (IAM tokens are signed for it)


@dataclass(frozen=True)
class TableSpec:
    name: str
    key: tuple[str, ...] | None = None  # None: use the primary key from the catalog
    exclude_columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReferenceData:
    source: str | None
    targets: tuple[str, ...]
    tables: tuple[TableSpec, ...]
    # target -> the one environment it takes reference data from (the one before it in the
    # promote chain, decided by the plan). Without routes every target reads from ``source``.
    routes: Mapping[str, str] = field(default_factory=dict)

    def table(self, name: str) -> TableSpec | None:
        return next((t for t in self.tables if t.name == name), None)

    def source_of(self, target: str) -> str | None:
        if target not in self.targets:
            return None
        return self.routes.get(target, self.source)

    def sources(self) -> set[str]:
        """Environments that reference data is read from."""
        return {s for t in self.targets if (s := self.source_of(t)) is not None}


@dataclass(frozen=True)
class Migrations:
    bucket: str
    prefix: str


@dataclass(frozen=True)
class SyncSettings:
    """Tuning of the range-checksum search (see refdata.py).

    Defaults measured with bench/bench_replsync.py on 10^5..10^6-row tables: small top-level
    ranges keep the rows re-read under differing ranges few; row-level comparison ships one
    digest string per range, so it is cheap enough to start at a few hundred rows. With a
    single integer key a level costs one aggregated query per side whatever its number of
    slices, so slices are cut 64-fold per level (two levels reach ~30-row slices); on
    PostgreSQL the first level is cut at ``slice_leaf_rows`` already (``flat_slices``).
    """

    chunk_rows: int = 2_000  # source rows per top-level checksum range (or key slice)
    fanout: int = 4  # sub-ranges a differing range is split into
    leaf_rows: int = 512  # ranges this small are compared row by row
    # A level where this share of ranges differs is compared row by row at once (ranges up
    # to leaf_rows * fanout rows): nearly every sub-range would differ too.
    dense_fraction: float = 0.95
    fetch_rows: int = 20_000  # max rows per row-digest query (adjacent ranges are merged)
    write_batch: int = 500  # rows per multi-row INSERT / keys per DELETE
    # Single integer keys: key slices of chunk_rows rows are cut into this many finer slices
    # (a power of two) while they differ, until they hold about slice_leaf_rows rows.
    slice_fanout: int = 64
    slice_leaf_rows: int = 64


@dataclass(frozen=True)
class Config:
    engine: str
    environments: Mapping[str, Environment]
    promote: tuple[str, ...]
    reference_data: ReferenceData
    migrations: Migrations | None
    metrics_namespace: str
    sync: SyncSettings = field(default_factory=SyncSettings)


def load_config(environ: Mapping[str, str] | None = None) -> Config:
    """Read the configuration from the process environment."""
    environ = os.environ if environ is None else environ
    text = environ.get(ENV_VAR)
    if not text:
        raise ConfigError(f"{ENV_VAR} is not set")
    return parse_config(text)


def parse_config(text: str) -> Config:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{ENV_VAR} is not valid JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{ENV_VAR} must be a JSON object")
    try:
        return _build(raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{ENV_VAR} is malformed: {exc!r}") from exc


def _build(raw: dict[str, Any]) -> Config:
    engine = str(raw["engine"])
    if engine not in ("mysql", "postgres"):
        raise ValueError(f"engine must be mysql or postgres, not {engine!r}")
    # "user" and "region" may be given once for all environments (the 4 KB of a function's
    # environment are tight), and per environment where one differs.
    defaults = {k: raw[k] for k in ("user", "region") if raw.get(k)}
    environments = {
        name: _environment(name, {**defaults, **env}) for name, env in raw["environments"].items()
    }
    promote = tuple(str(x) for x in raw.get("promote") or ())
    unknown = [name for name in promote if name not in environments]
    if unknown:
        raise ValueError(f"promote names unknown environments {unknown}")
    reference_data = _reference_data(raw.get("reference_data") or {})
    routed = [*reference_data.routes.keys(), *reference_data.routes.values()]
    unknown = [name for name in routed if name not in environments]
    if unknown:
        raise ValueError(f"reference_data.routes names unknown environments {unknown}")
    migrations = raw.get("migrations")
    return Config(
        engine=engine,
        environments=environments,
        promote=promote,
        reference_data=reference_data,
        migrations=Migrations(str(migrations["bucket"]), str(migrations.get("prefix") or ""))
        if migrations
        else None,
        metrics_namespace=str(raw.get("metrics_namespace") or "replgen/dbrepl"),
        sync=SyncSettings(**raw.get("sync", {})),
    )


def _environment(name: str, env: dict[str, Any]) -> Environment:
    return Environment(
        name=name,
        host=str(env["host"]),
        port=int(env["port"]),
        dbname=str(env["dbname"]),
        secret_arn=env.get("secret_arn") or None,
        role_arn=env.get("role_arn") or None,
        production=bool(env.get("production", False)),
        user=str(env.get("user") or DEFAULT_USER),
        region=env.get("region") or None,
    )


def _reference_data(raw: dict[str, Any]) -> ReferenceData:
    tables = []
    for item in raw.get("tables") or ():
        spec = {"name": item} if isinstance(item, str) else item
        key = spec.get("key")
        tables.append(
            TableSpec(
                name=str(spec["name"]),
                key=(key,) if isinstance(key, str) else (tuple(key) if key else None),
                exclude_columns=tuple(spec.get("exclude_columns") or ()),
            )
        )
    return ReferenceData(
        source=raw.get("source"),
        targets=tuple(raw.get("targets") or ()),
        tables=tuple(tables),
        routes={str(k): str(v) for k, v in (raw.get("routes") or {}).items()},
    )
