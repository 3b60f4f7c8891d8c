"""The environment variables the infrastructure sets, parsed and checked once per invocation.

A missing or malformed variable raises ``ConfigError`` naming it (never its value: some are
ARNs of secrets, and none is needed to diagnose which one is wrong).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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
    api_auth: str = "none"  # mtls | oidc | none (the env var itself is required)
    account_claim: str = "account_id"
    alb_arn: str | None = None  # the ALB that signs x-amzn-oidc-data (oidc only)


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
    mode: str = "manual"  # automatic | manual
    evaluations: int = 3  # consecutive "down" evaluations needed ...
    sustain_seconds: int = 180  # ... spanning at least this long
    metric_stale_seconds: int = 300  # replication metric older than this: replication stopped
    lag_down_seconds: int = 60  # replication lag at or above this: replication stalled

    @property
    def target_cluster_id(self) -> str:
        """The cluster identifier in the target ARN (``...:cluster:<id>``): the dimension of
        its CloudWatch metrics."""
        return self.target_cluster_arn.rsplit(":", 1)[-1]


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


def _choice(
    environ: Mapping[str, str], name: str, choices: tuple[str, ...], default: str | None
) -> str:
    raw = environ.get(name, "").strip().lower()
    if not raw and default is not None:
        return default
    if raw not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}")
    return raw


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
        **_api_auth(env),
    )


API_AUTH = ("mtls", "oidc", "none")
CLAIM_NAME = re.compile(r"[A-Za-z0-9_:.-]{1,64}")


def _api_auth(env: Mapping[str, str]) -> dict[str, Any]:
    # Required, no default: a payments API must not fall open because a variable is missing.
    mode = _choice(env, "API_AUTH", API_AUTH, None)
    claim = env.get("API_ACCOUNT_CLAIM", "").strip() or "account_id"
    if not CLAIM_NAME.fullmatch(claim):
        raise ConfigError("API_ACCOUNT_CLAIM must be 1-64 characters of A-Z, a-z, 0-9, _ : . -")
    # The ALB names itself in every token it signs (``signer``): compared exactly, so a wrong
    # value fails closed (every request 401), never open.
    alb_arn = _required(env, "ALB_ARN") if mode == "oidc" else None
    return {"api_auth": mode, "account_claim": claim, "alb_arn": alb_arn}


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
        mode=_choice(env, "FAILOVER_MODE", ("automatic", "manual"), "manual"),
        # At least two evaluations a minute apart: one evaluation is a moment, not a trend.
        evaluations=_int(env, "FAILOVER_EVALUATIONS", 3, 2, 30),
        sustain_seconds=_int(env, "FAILOVER_SUSTAIN_SECONDS", 180, 60, 3_600),
        # Aurora publishes the metric every minute, CloudWatch shows it a minute or two late:
        # below two minutes a healthy replication would look stale.
        metric_stale_seconds=_int(env, "FAILOVER_METRIC_STALE_SECONDS", 300, 120, 3_600),
        lag_down_seconds=_int(env, "FAILOVER_LAG_DOWN_SECONDS", 60, 5, 3_600),
    )
