"""The environment variables the infrastructure sets, parsed and checked once per invocation.

A missing or malformed variable raises ``ConfigError`` naming it (never its value: some are
ARNs of secrets, and none is needed to diagnose which one is wrong).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from txnproc.errors import ConfigError


@dataclass(frozen=True)
class ProcessorConfig:
    db_host: str
    db_port: int
    db_name: str
    db_secret_arn: str
    queue_url: str
    sessions_table: str
    log_bucket: str
    region: str
    session_ttl_seconds: int = 86_400


@dataclass(frozen=True)
class FailoverConfig:
    global_cluster_id: str
    target_cluster_arn: str
    primary_health_url: str
    health_check_id: str
    sessions_table: str
    topic_arn: str
    region: str
    probes: int = 3
    probe_timeout_seconds: float = 5.0


def _required(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise ConfigError(f"environment variable {name} is not set")
    return value


def _int(environ: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer") from exc
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}")
    return value


def _float(environ: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number") from exc
    if not low <= value <= high:  # also refuses nan
        raise ConfigError(f"{name} must be between {low} and {high}")
    return value


def _region(environ: Mapping[str, str]) -> str:
    # Lambda sets AWS_REGION; AWS_DEFAULT_REGION is what a local run usually has.
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise ConfigError("environment variable AWS_REGION is not set")
    return region


def load_processor(environ: Mapping[str, str] | None = None) -> ProcessorConfig:
    env = os.environ if environ is None else environ
    return ProcessorConfig(
        db_host=_required(env, "DB_HOST"),
        db_port=_int(env, "DB_PORT", 5432, 1, 65_535),
        db_name=_required(env, "DB_NAME"),
        db_secret_arn=_required(env, "DB_SECRET_ARN"),
        queue_url=_required(env, "QUEUE_URL"),
        sessions_table=_required(env, "SESSIONS_TABLE"),
        log_bucket=_required(env, "LOG_BUCKET"),
        region=_region(env),
        # Up to a year: DynamoDB TTL needs no more, and a typo of extra zeros is caught.
        session_ttl_seconds=_int(env, "SESSION_TTL_SECONDS", 86_400, 60, 366 * 86_400),
    )


def load_failover(environ: Mapping[str, str] | None = None) -> FailoverConfig:
    env = os.environ if environ is None else environ
    url = _required(env, "PRIMARY_HEALTH_URL")
    if not url.startswith(("https://", "http://")):
        raise ConfigError("PRIMARY_HEALTH_URL must be an http(s) URL")
    return FailoverConfig(
        global_cluster_id=_required(env, "GLOBAL_CLUSTER_ID"),
        target_cluster_arn=_required(env, "TARGET_CLUSTER_ARN"),
        primary_health_url=url,
        health_check_id=_required(env, "HEALTH_CHECK_ID"),
        sessions_table=_required(env, "SESSIONS_TABLE"),
        topic_arn=_required(env, "TOPIC_ARN"),
        region=_region(env),
        probes=_int(env, "PROBES", 3, 1, 10),
        probe_timeout_seconds=_float(env, "PROBE_TIMEOUT_SECONDS", 5.0, 0.1, 30.0),
    )
