"""Versioned migrations: ``V<version>__<description>.sql`` objects under an S3 prefix.

Scripts run in numeric version order (``1 < 1.1 < 2 < 10``; trailing ``.0`` parts do not count,
so ``1.0`` and ``1`` are the same version and may not both exist). Each applied script is
recorded in ``replgen_schema_history`` with its SHA-256; an applied script whose bytes changed
stops the run before anything is applied.

Transactions: on PostgreSQL a script and its history row commit together or not at all, and a
script that failed (recorded with success = false) is simply retried by the next run. On
MySQL every DDL statement commits implicitly, so a failed script may be half-applied: the run
stops, records the failure, and later runs refuse to continue until someone repairs the
database and deletes the failed history row.

A run reads one fixed set of object versions: the first step lists the prefix once and keeps
each script's VersionId; every read is by VersionId, and the set is returned (``versions``)
so the promotion's later steps apply exactly the same bytes (an object overwritten mid-run is
not read). A production target runs only scripts whose checksums already succeeded on the
environment before it in the promote order, as that environment's history says.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import posixpath
import re
import time
from dataclasses import dataclass
from typing import Any

from replsync.catalog import HISTORY_TABLE
from replsync.connect import close_quietly, with_retry
from replsync.dialect import Connection, Dialect
from replsync.errors import ChecksumMismatch, MigrationFailed, NotPromoted, Refused
from replsync.observe import emit_metrics, log
from replsync.policy import environment
from replsync.runtime import Request, Runtime
from replsync.splitter import split_statements

SCRIPT_NAME = re.compile(r"^V(\d+(?:\.\d+)*)__(.+)\.sql$")
LOCK_NAME = "replgen_migrate"


@dataclass(frozen=True)
class Script:
    version: str
    description: str
    key: str  # S3 key
    body: bytes

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    @property
    def order(self) -> tuple[int, ...]:
        return version_key(self.version)


@dataclass(frozen=True)
class Applied:
    version: str
    checksum: str
    success: bool


def version_key(version: str) -> tuple[int, ...]:
    """Numeric, per dotted part; trailing zero parts dropped so 1.0 == 1."""
    parts = [int(p) for p in version.split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def parse_name(key: str) -> tuple[str, str] | None:
    match = SCRIPT_NAME.match(posixpath.basename(key))
    if not match:
        return None
    return match.group(1), match.group(2).replace("_", " ")


def list_versions(s3: Any, bucket: str, prefix: str) -> dict[str, str]:
    """The current version of every object under the prefix, listed once: key -> VersionId
    (``"null"`` for an object written before versioning was on)."""
    versions: dict[str, str] = {}
    pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix)
    for page in pages:
        # A key whose latest entry is a delete marker is gone: it has no current version.
        for obj in page.get("Versions", ()):
            if obj.get("IsLatest"):
                versions[obj["Key"]] = obj.get("VersionId") or "null"
    return dict(sorted(versions.items()))


def list_scripts(s3: Any, bucket: str, versions: dict[str, str]) -> list[Script]:
    """The scripts of a version set, each read by its VersionId, in version order."""
    scripts: list[Script] = []
    for key, version_id in versions.items():
        parsed = parse_name(key)
        if parsed is None:
            log("warning", "migration_ignored", key=key, reason="name not V<v>__<d>.sql")
            continue
        body = s3.get_object(Bucket=bucket, Key=key, VersionId=version_id)["Body"].read()
        scripts.append(Script(parsed[0], parsed[1], key, body))
    scripts.sort(key=lambda s: s.order)
    for a, b in itertools.pairwise(scripts):
        if a.order == b.order:
            raise MigrationFailed(f"two scripts have version {a.version}: {a.key}, {b.key}")
    return scripts


# ============================================================================ history


def ensure_history(dialect: Dialect, conn: Connection) -> None:
    conn.cursor().execute(dialect.history_ddl())
    conn.commit()


def read_history(dialect: Dialect, conn: Connection) -> dict[tuple[int, ...], Applied]:
    cur = conn.cursor()
    cur.execute(
        f"SELECT {dialect.column_list(['version', 'checksum', 'success'])} "
        f"FROM {dialect.quote(HISTORY_TABLE)}"
    )
    rows = cur.fetchall()
    conn.commit()
    return {version_key(v): Applied(v, c.strip(), bool(s)) for v, c, s in rows}


def record(dialect: Dialect, conn: Connection, script: Script, ms: int, success: bool) -> None:
    """Write the script's history row (replacing a failed one) on the open transaction."""
    cur = conn.cursor()
    table = dialect.quote(HISTORY_TABLE)
    cur.execute(f"DELETE FROM {table} WHERE {dialect.quote('version')} = %s", (script.version,))
    columns = ["version", "description", "checksum", "duration_ms", "success"]
    cur.execute(
        f"INSERT INTO {table} ({dialect.column_list(columns)}) VALUES (%s, %s, %s, %s, %s)",
        (script.version, script.description[:255], script.checksum, ms, success),
    )


def latest_version(dialect: Dialect, conn: Connection) -> str | None:
    """Highest successfully applied version, or None (also when there is no history)."""
    applied = {}
    if dialect.has_table(conn.cursor(), HISTORY_TABLE):
        applied = read_history(dialect, conn)
    conn.rollback()
    ok = [a for a in applied.values() if a.success]
    return max(ok, key=lambda a: version_key(a.version)).version if ok else None


# ============================================================================ planning


def pending_scripts(
    dialect: Dialect, scripts: list[Script], applied: dict[tuple[int, ...], Applied]
) -> list[Script]:
    """Validate history against the scripts; return those still to run, in order."""
    for script in scripts:
        done = applied.get(script.order)
        if done and done.success and done.checksum != script.checksum:
            raise ChecksumMismatch(
                f"applied migration {script.version} was changed after it ran",
                version=script.version,
                expected=done.checksum,
                found=script.checksum,
            )
    pending = []
    for script in scripts:
        done = applied.get(script.order)
        if done and done.success:
            continue
        if done and not dialect.transactional_ddl:
            raise MigrationFailed(
                f"migration {script.version} failed earlier and DDL is not transactional on "
                f"{dialect.name}: repair the schema, delete its row from {HISTORY_TABLE}, rerun",
                version=script.version,
            )
        pending.append(script)
    return pending


# ============================================================================ applying


def apply_script(dialect: Dialect, conn: Connection, script: Script) -> int:
    """Run one script and record it; returns its duration in ms. Raises the driver error
    after recording the failure."""
    statements = split_statements(script.body.decode("utf-8-sig"), dialect.split_options)
    started = time.monotonic()
    try:
        cur = conn.cursor()
        for statement in statements:
            cur.execute(statement)
        ms = int((time.monotonic() - started) * 1000)
        record(dialect, conn, script, ms, True)
        conn.commit()
        return ms
    except Exception:
        ms = int((time.monotonic() - started) * 1000)
        conn.rollback()
        record(dialect, conn, script, ms, False)
        conn.commit()
        raise


@dataclass(frozen=True)
class Gate:
    """What the environment before a production target has proven (checksums)."""

    target: str
    previous: str
    proven: set[str]


def run_migrations(
    runtime: Runtime,
    conn: Connection,
    scripts: list[Script],
    dry_run: bool,
    gate: Gate | None = None,
) -> dict[str, Any]:
    dialect = runtime.dialect
    ensure_history(dialect, conn)
    applied = read_history(dialect, conn)
    pending = pending_scripts(dialect, scripts, applied)
    if gate is not None:
        check_promoted(gate.target, gate.previous, pending, gate.proven)
    done: list[dict[str, Any]] = []
    skipped = [s.version for s in scripts if s not in pending]
    if dry_run:
        return {"applied": [], "skipped": skipped, "pending": [s.version for s in pending]}

    def retryable(exc: BaseException) -> bool:
        # Only a transactional script can be retried: a failed one left nothing behind.
        return dialect.transactional_ddl and dialect.is_transient(exc)

    for script in pending:
        try:
            ms = with_retry(
                functools.partial(apply_script, dialect, conn, script),
                is_transient=retryable,
                policy=runtime.connector.policy,
                what=f"migration {script.version}",
            )
        except Exception as exc:
            log(
                "error",
                "migration_failed",
                version=script.version,
                key=script.key,
                error=type(exc).__name__,
                cause=repr(exc),
            )
            raise MigrationFailed(
                f"migration {script.version} failed: {exc}", version=script.version, applied=done
            ) from exc
        done.append(
            {"version": script.version, "description": script.description, "duration_ms": ms}
        )
        log("info", "migration_applied", version=script.version, duration_ms=ms)
    return {"applied": done, "skipped": skipped, "pending": []}


# ============================================================================ promotion gate


def previous_environment(runtime: Runtime, target: str) -> str:
    order = runtime.config.promote
    if target not in order or order.index(target) == 0:
        raise NotPromoted(
            f"production environment {target!r} has no environment before it in the promote "
            f"order {list(order)}: nothing has proven its migrations"
        )
    return order[order.index(target) - 1]


def succeeded_on(runtime: Runtime, env: str) -> set[str]:
    """Checksums of the scripts that succeeded on ``env`` (its history, read-only)."""
    conn = runtime.connector.open(env)
    try:
        if not runtime.dialect.has_table(conn.cursor(), HISTORY_TABLE):
            return set()
        return {a.checksum for a in read_history(runtime.dialect, conn).values() if a.success}
    finally:
        close_quietly(conn)


def check_promoted(target: str, previous: str, pending: list[Script], proven: set[str]) -> None:
    """Refuse, before anything runs, a pending script that the previous environment has not
    run successfully with the same bytes."""
    unproven = [s.version for s in pending if s.checksum not in proven]
    if unproven:
        raise NotPromoted(
            f"{target!r} is production: migrations {unproven} have not succeeded on "
            f"{previous!r} with the same checksum",
            unproven=unproven,
            previous=previous,
        )


def version_set(runtime: Runtime, request: Request, bucket: str, prefix: str) -> dict[str, str]:
    if request.versions is None:
        return list_versions(runtime.s3(), bucket, prefix)
    outside = [key for key in request.versions if not key.startswith(prefix)]
    if outside:
        raise Refused(f"versions name objects outside {prefix!r}: {outside}")
    return dict(sorted(request.versions.items()))


def migrate(request: Request, runtime: Runtime) -> dict[str, Any]:
    """The ``migrate`` action: apply pending scripts to ``request.target``."""
    target = environment(runtime.config, request.target, "target")
    settings = runtime.config.migrations
    if settings is None:
        raise Refused("no migrations bucket configured")
    versions = version_set(runtime, request, settings.bucket, settings.prefix)
    scripts = list_scripts(runtime.s3(), settings.bucket, versions)
    gate = None
    if target.production:
        previous = previous_environment(runtime, target.name)
        gate = Gate(target.name, previous, succeeded_on(runtime, previous))
    conn = runtime.connector.open(target.name)
    failed = True
    try:
        if not runtime.dialect.try_lock(conn.cursor(), LOCK_NAME):
            raise MigrationFailed(f"another migration of {target.name!r} is running")
        conn.commit()
        result = run_migrations(runtime, conn, scripts, request.dry_run, gate)
        failed = False
    finally:
        close_quietly(conn)  # also releases the session-level lock
        emit_metrics(runtime.config.metrics_namespace, target.name, {"SyncFailures": int(failed)})
    log(
        "info",
        "migrate_done",
        target=target.name,
        dry_run=request.dry_run,
        applied=len(result["applied"]),
        skipped=len(result["skipped"]),
    )
    return {
        "status": "ok",
        "action": "migrate",
        "target": target.name,
        "dry_run": request.dry_run,
        "versions": versions,
        **result,
    }
