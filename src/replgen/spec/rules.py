"""Rules that need the whole document: references, overlaps, isolation, service limits.

Each rule is a small function that yields problems with the key path to edit;
`check` runs them all so a user sees every mistake at once.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Iterator
from datetime import date

from replgen.errors import Problem
from replgen.spec import cadence, catalog
from replgen.spec.models import Spec
from replgen.spec.suggest import did_you_mean
from replgen.spec.view import (
    Setting,
    database_settings,
    deletion_protection,
    network_settings,
    site_entries,
)

# The smallest subnet replgen carves: ALBs need /27 and Lambda ENIs need room.
SMALLEST_SUBNET = 27
MEMORY_OPTIMISED = ("db.r", "db.x")

Rule = Callable[[Spec], Iterator[Problem]]


def accounts_exist(spec: Spec) -> Iterator[Problem]:
    for name, env in spec.environments.items():
        if env.account not in spec.accounts:
            known = ", ".join(sorted(spec.accounts))
            yield Problem(
                ("environments", name, "account"),
                f"unknown account {env.account!r} (known: {known})",
            )


def deploy_from_known(spec: Spec) -> Iterator[Problem]:
    who = spec.state.deploy_from
    if who is not None and who not in spec.accounts and not re.fullmatch(r"\d{12}", who):
        known = ", ".join(sorted(spec.accounts))
        yield Problem(
            ("state", "deploy_from"),
            f"unknown account {who!r} (an alias of accounts: {known}; or a 12-digit account id)",
        )


def sites_well_formed(spec: Spec) -> Iterator[Problem]:
    for name, env in spec.environments.items():
        path = ("environments", name)
        if env.regions and (env.cidr or env.region):
            yield Problem(path, "give either cidr/region or regions, not both")
        elif not env.regions and not env.cidr:
            yield Problem(path, "missing cidr (or regions with a cidr each)")
        elif not env.regions and not (env.region or spec.region):
            yield Problem(path, "no region: set region here or at the top level")


def regions_known(spec: Spec) -> Iterator[Problem]:
    """Each region where it is written (once, not once per environment that inherits it)."""
    written: list[tuple[tuple[str | int, ...], str | None]] = [
        (("region",), spec.region),
        (("state", "region"), spec.state.region),
    ]
    for name, env in spec.environments.items():
        written.append((("environments", name, "region"), env.region))
        written += [(("environments", name, "regions", r), r) for r in env.regions or {}]
    known = catalog.regions()
    for path, region in written:
        if region is not None and region not in known:
            yield Problem(path, f"unknown AWS region {region!r}{did_you_mean(region, known)}")


def cidrs_fit(spec: Spec) -> Iterator[Problem]:
    seen: list[tuple[ipaddress.IPv4Network, str]] = []
    for site in site_entries(spec):
        if not site.cidr:
            continue
        net = ipaddress.IPv4Network(site.cidr)
        for other, other_id in seen:
            if net.overlaps(other):
                yield Problem(site.path, f"{net} overlaps {other_id} ({other})")
        seen.append((net, site.id))
        needed = subnet_count(spec, site.environment)
        prefix = net.prefixlen + math.ceil(math.log2(needed))
        if prefix > SMALLEST_SUBNET:
            yield Problem(
                site.path,
                f"{net} is too small for {needed} subnets of at least /{SMALLEST_SUBNET}",
            )


def subnet_count(spec: Spec, env: str) -> int:
    """Private subnets per AZ, plus public ones where an ALB is built."""
    azs: int = network_settings(spec, env)["azs"].value
    return azs * (2 if spec.processing else 1)


def _site_ids(spec: Spec) -> set[str]:
    return {s.id for s in site_entries(spec)}


def _unknown_site(spec: Spec, ref: str) -> str:
    env = spec.environments.get(ref)
    if env is not None and env.regions:
        options = ", ".join(f"{ref}/{r}" for r in env.regions)
        return f"{ref} spans several regions: name one of {options}"
    return f"unknown site {ref!r} (sites: {', '.join(sorted(_site_ids(spec)))})"


def peering_valid(spec: Spec) -> Iterator[Problem]:
    ids = _site_ids(spec)
    pairs: set[frozenset[str]] = set()
    for i, (a, b) in enumerate(spec.peering):
        for j, end in enumerate((a, b)):
            if end not in ids:
                yield Problem(("peering", i, j), _unknown_site(spec, end))
        if a == b:
            yield Problem(("peering", i), f"{a} cannot peer with itself")
        pair = frozenset((a, b))
        if pair in pairs:
            yield Problem(("peering", i), f"{a} and {b} are already peered")
        pairs.add(pair)


def _peers(spec: Spec, site: str) -> set[str]:
    return {b if a == site else a for a, b in spec.peering if site in (a, b)}


def _env_sites(spec: Spec, env: str) -> list[str]:
    return [s.id for s in site_entries(spec) if s.environment == env]


def sync_valid(spec: Spec) -> Iterator[Problem]:
    sync = spec.sync
    if sync is None:
        return
    if sync.runs_in not in _site_ids(spec):
        yield Problem(("sync", "runs_in"), _unknown_site(spec, sync.runs_in))
        return
    promote = sync.schema_.promote if sync.schema_ else ()
    for i, env in enumerate(promote):
        if env not in spec.environments:
            yield Problem(("sync", "schema", "promote", i), f"unknown environment {env!r}")
        elif env in promote[:i]:
            yield Problem(("sync", "schema", "promote", i), f"{env} is listed twice")
    touched: list[tuple[str | int, ...]] = [
        ("sync", "schema", "promote", i, env) for i, env in enumerate(promote)
    ]
    yield from _reference_data_valid(spec, promote)
    ref = sync.reference_data
    if ref:
        touched.append(("sync", "reference_data", "source", ref.source))
        touched += [("sync", "reference_data", "targets", i, t) for i, t in enumerate(ref.targets)]
    yield from _reachable(spec, sync.runs_in, touched)


def sync_alarm_fits(spec: Spec) -> Iterator[Problem]:
    """The staleness alarm fires after lag_alarm_seconds + the schedule's longest gap with no
    refreshed target: both must be something EventBridge and CloudWatch can honour."""
    sync = spec.sync
    if sync is None:
        return
    try:
        gap = cadence.period_seconds(sync.schedule)
    except cadence.ScheduleError as exc:
        yield Problem(("sync", "schedule"), f"{exc}: a lag alarm needs a repeating schedule")
        return
    except ValueError:  # a field EventBridge would refuse too
        yield Problem(("sync", "schedule"), f"cannot read {sync.schedule!r} as cron()")
        return
    if sync.lag_alarm_seconds < 60:
        yield Problem(
            ("sync", "lag_alarm_seconds"),
            f"{sync.lag_alarm_seconds} is shorter than the minute within which EventBridge "
            "starts a run and CloudWatch evaluates an alarm; use 60 or more",
        )
    window = sync.lag_alarm_seconds + gap
    if window > cadence.HOUR_WINDOW:
        yield Problem(
            ("sync", "lag_alarm_seconds"),
            f"{sync.lag_alarm_seconds} s + the schedule's longest gap ({gap} s) is more than "
            f"the {cadence.HOUR_WINDOW} s (7 days) a CloudWatch alarm can look back; "
            "schedule the sync at least weekly",
        )


def _reachable(spec: Spec, runs_in: str, touched: list[tuple[str | int, ...]]) -> Iterator[Problem]:
    """Peering is not transitive: every database the functions touch is local or one hop."""
    peers = _peers(spec, runs_in) | {runs_in}
    reported: set[str] = set()
    for entry in touched:
        path, env = entry[:-1], str(entry[-1])
        if env not in spec.environments or env in reported:
            continue
        if not peers & set(_env_sites(spec, env)):
            reported.add(env)
            yield Problem(path, f"{env} is not peered with sync.runs_in ({runs_in})")


def _reference_data_valid(spec: Spec, promote: tuple[str, ...]) -> Iterator[Problem]:
    ref = spec.sync.reference_data if spec.sync else None
    if ref is None:
        return
    base = ("sync", "reference_data")
    source_env = spec.environments.get(ref.source)
    if source_env is None:
        yield Problem((*base, "source"), f"unknown environment {ref.source!r}")
    elif source_env.production:
        yield Problem((*base, "source"), f"{ref.source} is production: its data never leaves it")
    for i, target in enumerate(ref.targets):
        path = (*base, "targets", i)
        if target in ref.targets[:i]:
            yield Problem(path, f"{target} is listed twice")
        elif target not in spec.environments:
            yield Problem(path, f"unknown environment {target!r}")
        elif target == ref.source:
            yield Problem(path, f"{target} is also the source")
        elif ref.source in promote and target in promote:
            if promote.index(target) < promote.index(ref.source):
                yield Problem(path, f"{target} comes before {ref.source} in sync.schema.promote")
        else:
            yield Problem(path, "source and every target must be listed in sync.schema.promote")
    names = [t.name.lower() for t in ref.tables]
    for i, table in enumerate(ref.tables):
        if table.name.lower() in names[:i]:
            yield Problem((*base, "tables", i), f"table {table.name} is listed twice")
        if table.key and set(table.key) & set(table.exclude_columns):
            yield Problem((*base, "tables", i), "a key column cannot be excluded")


def databases_valid(spec: Spec) -> Iterator[Problem]:
    for env in spec.environments:
        yield from _database_valid(spec, env)


def _database_valid(spec: Spec, env: str) -> Iterator[Problem]:
    db = database_settings(spec, env)
    engine, version = db["engine"], db["engine_version"]
    for field, setting in (("engine", engine), ("engine_version", version)):
        if setting.value is None:
            yield Problem(
                (*setting.path, "database", field),
                f"missing {field}: set it here or under defaults.database",
            )
    if engine.value is None or version.value is None:
        return
    versions = catalog.engine_versions(engine.value)
    if version.value not in versions:
        hint = did_you_mean(version.value, versions)
        yield Problem(version.path, f"{engine.value} has no version {version.value!r}{hint}")
    elif version.value in catalog.deprecated_versions(engine.value):
        yield Problem(version.path, f"{engine.value} {version.value} is deprecated by RDS")
    serverless = db["serverless"].value
    if serverless is None:
        yield from _instance_class_valid(db, env)
    regions = spec.environments[env].regions or {}
    if db["global_"].value and len(regions) < 2:
        yield Problem(db["global_"].path, "global: true needs at least two regions")


def _instance_class_valid(db: dict[str, Setting], env: str) -> Iterator[Problem]:
    setting, engine, version = db["instance_class"], db["engine"], db["engine_version"]
    cls = setting.value
    if cls is None:
        yield Problem(
            (*setting.path, "database", "instance_class"),
            "missing instance_class (or serverless capacity)",
        )
        return
    offered = catalog.instance_classes(engine.value, version.value)
    if offered and cls not in offered:
        hint = did_you_mean(cls, [c for c in offered if _large_enough(c)])
        message = f"{cls} is not offered for {engine.value} {version.value}{hint}"
        yield Problem(setting.path, message)
    elif not _large_enough(cls):
        yield Problem(setting.path, f"{cls} is smaller than db.r5.large (the smallest allowed)")


def _large_enough(cls: str) -> bool:
    return cls.startswith(MEMORY_OPTIMISED) and catalog.size_rank(cls) >= 3


def runtime_supported(spec: Spec) -> Iterator[Problem]:
    runtime = spec.functions.runtime
    known = catalog.lambda_runtimes()
    if not runtime.startswith("python3.") or runtime not in known:
        yield Problem(("functions", "runtime"), f"unknown Python runtime {runtime!r}")
        return
    blocked = date.fromisoformat(known[runtime].create_block)
    if blocked <= date.today():
        yield Problem(
            ("functions", "runtime"), f"{runtime} can no longer be deployed (since {blocked})"
        )


def runtime_warnings(spec: Spec) -> list[Problem]:
    """Deprecated but still deployable runtimes compile, with a warning naming the date."""
    info = catalog.lambda_runtimes().get(spec.functions.runtime)
    if info is None or date.fromisoformat(info.deprecated) > date.today():
        return []
    message = (
        f"{spec.functions.runtime} was deprecated on {info.deprecated} "
        f"(new functions blocked from {info.create_block}); use python3.12 or newer"
    )
    return [Problem(("functions", "runtime"), message)]


def dr_valid(spec: Spec) -> Iterator[Problem]:
    needs_regions = ("disaster_recovery", "sessions", "storage")
    multi = [e for e in spec.environments.values() if e.regions and len(e.regions) > 1]
    for key in needs_regions:
        if getattr(spec, key) is not None and not multi:
            yield Problem((key,), "needs an environment with at least two regions")
    global_envs = [e for e in spec.environments if database_settings(spec, e)["global_"].value]
    if spec.disaster_recovery and len(global_envs) != 1:
        yield Problem(
            ("disaster_recovery",),
            "needs exactly one environment with database.global: true (the one it protects), "
            f"found {len(global_envs)}",
        )
    for key in ("processing", "sessions", "storage", "backup"):
        if getattr(spec, key) is not None and not spec.disaster_recovery:
            yield Problem(
                (key,), "applies to the disaster-recovery environment: add disaster_recovery"
            )
    if spec.processing and len(global_envs) == 1:
        engine = database_settings(spec, global_envs[0])["engine"]
        if engine.value != "aurora-postgresql":
            yield Problem(
                engine.path,
                "processing runs txnproc, which writes to PostgreSQL: the disaster-recovery "
                "environment needs engine aurora-postgresql",
            )
    # txnproc needs all three: the ALB it answers behind, the sessions it records, the logs.
    for key, why in (
        ("processing", "the ALB endpoints the health checks watch"),
        ("sessions", "the table txnproc records sessions in"),
        ("storage", "the bucket txnproc appends its logs to"),
    ):
        if spec.disaster_recovery and getattr(spec, key) is None:
            yield Problem(("disaster_recovery",), f"needs {key} ({why})")
    names = [b.name for b in spec.storage.buckets] if spec.storage else []
    for i, name in enumerate(names):
        if name in names[:i]:
            yield Problem(("storage", "buckets", i, "name"), f"bucket {name} is listed twice")


def api_valid(spec: Spec) -> Iterator[Problem]:
    """A served API must say how callers authenticate; each mode needs its own settings."""
    api = spec.api
    # Without disaster_recovery, processing is itself the mistake (dr_valid says so).
    if spec.processing is not None and spec.disaster_recovery is not None and api is None:
        yield Problem(
            ("processing",),
            "a topology that serves an API must choose api.auth: mtls, oidc or none",
        )
    if api is None:
        return
    if spec.processing is None:
        yield Problem(("api",), "only a topology with processing serves an API")
    needs = {"mtls": ("trust_store", "an s3:// CA bundle"), "oidc": ("oidc", "an oidc block")}
    for mode, (field, what) in needs.items():
        given = getattr(api, field) is not None
        if api.auth == mode and not given:
            yield Problem(("api", "auth"), f"{mode} needs api.{field}: {what}")
        elif api.auth != mode and given:
            yield Problem(("api", field), f"only auth: {mode} uses {field}")


def vault_lock_protected(spec: Spec) -> Iterator[Problem]:
    """A locked vault keeps its recovery points for their retention: nothing can then delete
    the environment's stacks, which contradicts an environment declared destroyable."""
    if spec.backup is None or not spec.backup.vault_lock:
        return
    envs = [e for e in spec.environments if database_settings(spec, e)["global_"].value]
    for env in envs:
        if not deletion_protection(spec, env):
            yield Problem(
                ("backup", "vault_lock"),
                f"a locked vault cannot be emptied, so environments.{env} could not be "
                f"destroyed: set environments.{env}.deletion_protection: true, or vault_lock: "
                "false",
            )


RULES: tuple[Rule, ...] = (
    accounts_exist,
    deploy_from_known,
    sites_well_formed,
    regions_known,
    cidrs_fit,
    peering_valid,
    sync_valid,
    sync_alarm_fits,
    databases_valid,
    runtime_supported,
    dr_valid,
    api_valid,
    vault_lock_protected,
)


def check(spec: Spec) -> list[Problem]:
    problems: list[Problem] = []
    for rule in RULES:
        problems.extend(rule(spec))
    return problems
