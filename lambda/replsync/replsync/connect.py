"""Credentials, connections, and retries.

At run time the sync logs in as its own database user with an IAM authentication token
(``iam_login``): the token is signed with the environment's access role, which may
``rds-db:connect`` as that user and nothing else, and it travels only inside the verified
TLS session (``rdstls``). The master secret is read only by the deploy-time bootstrap
(``read_secret``), which runs under another function and role.

boto3 is part of the Lambda runtime and is not vendored into the zip.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import rdstls

from replsync.config import Config, Environment
from replsync.dialect import Connection, Dialect
from replsync.errors import ConfigError, ConnectionRefused, TransientError
from replsync.observe import log

T = TypeVar("T")

# Error codes AWS uses for throttling and brief unavailability.
_AWS_TRANSIENT = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "SlowDown",
    "ServiceUnavailable",
    "InternalServiceError",
    "InternalFailure",
    "ProvisionedThroughputExceededException",
}


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base_delay: float = 0.2  # seconds; doubled per attempt, with jitter
    max_delay: float = 5.0


def aws_is_transient(exc: BaseException) -> bool:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return False
    return response.get("Error", {}).get("Code") in _AWS_TRANSIENT


def with_retry(
    fn: Callable[[], T],
    *,
    is_transient: Callable[[BaseException], bool],
    policy: RetryPolicy = RetryPolicy(),
    what: str = "operation",
    on_retry: Callable[[BaseException], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call ``fn``; on a transient error back off exponentially and call it again.

    Non-transient errors propagate at once (fail fast). When the attempts run out the last
    transient error is raised as ``TransientError`` so Step Functions can retry the task.
    """
    for attempt in range(1, policy.attempts + 1):
        try:
            return fn()
        except Exception as exc:
            if not is_transient(exc):
                raise
            if attempt == policy.attempts:
                raise TransientError(
                    f"{what} failed {attempt} times: {exc!r}", attempts=attempt
                ) from exc
            delay = min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1))
            delay *= 0.5 + random.random() / 2  # jitter: retries of parallel runs spread out
            log(
                "warning",
                "transient_error",
                what=what,
                attempt=attempt,
                error=repr(exc),
                retry_in_seconds=round(delay, 3),
            )
            if on_retry is not None:
                on_retry(exc)
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def _region_of(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[3] if len(parts) > 4 and parts[0] == "arn" and parts[3] else None


def _region(env: Environment) -> str | None:
    return env.region or _region_of(env.secret_arn or "") or _region_of(env.role_arn or "")


def _session(env: Environment) -> Any:
    import boto3

    region = _region(env)
    if not env.role_arn:
        return boto3.session.Session(region_name=region)
    sts = boto3.session.Session(region_name=region).client("sts")
    creds = sts.assume_role(RoleArn=env.role_arn, RoleSessionName=f"replsync-{env.name}")[
        "Credentials"
    ]
    return boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=region,
    )


def iam_token(env: Environment) -> str:
    """An IAM database authentication token for ``env.user`` (valid 15 minutes; signed
    locally with the session's credentials, no network call)."""
    client = _session(env).client("rds")
    return str(
        client.generate_db_auth_token(
            DBHostname=env.host, Port=env.port, DBUsername=env.user, Region=_region(env)
        )
    )


def iam_login(env: Environment) -> Credentials:
    """The run-time login: the sync's own user and a fresh IAM token as its password.
    ``iam_token`` is looked up at call time so tests can stand in for it (a test server
    cannot validate IAM tokens)."""
    return Credentials(env.user, iam_token(env))


def read_secret(env: Environment) -> Credentials:
    """Username and password from the environment's master secret (RDS-managed secret
    shape). Only the deploy-time bootstrap reads it."""
    if not env.secret_arn:
        raise ConfigError(f"{env.name} has no master secret configured", environment=env.name)
    client = _session(env).client("secretsmanager")
    raw = client.get_secret_value(SecretId=env.secret_arn)["SecretString"]
    try:
        data = json.loads(raw)
        return Credentials(str(data["username"]), str(data["password"]))
    except (ValueError, KeyError, TypeError) as exc:
        # Never log the secret itself, only which one is wrong.
        raise ConfigError(f"secret {env.secret_arn} has no JSON username/password") from exc


Login = Callable[[Environment], Credentials]


class Connector:
    """Opens connections to configured environments; credentials are obtained once per
    invocation (an IAM token outlives the 300 s a run may take)."""

    def __init__(
        self,
        config: Config,
        dialect: Dialect,
        login: Login = iam_login,
        policy: RetryPolicy = RetryPolicy(),
    ) -> None:
        self.config = config
        self.dialect = dialect
        self.login = login
        self.policy = policy
        self._credentials: dict[str, Credentials] = {}

    def is_transient(self, exc: BaseException) -> bool:
        return (
            self.dialect.is_transient(exc)
            or aws_is_transient(exc)
            or isinstance(exc, ConnectionError | TimeoutError)
        )

    def credentials(self, name: str) -> Credentials:
        if name not in self._credentials:
            env = self.config.environments[name]
            self._credentials[name] = with_retry(
                lambda: self.login(env),
                is_transient=self.is_transient,
                policy=self.policy,
                what=f"credentials of {name}",
            )
        return self._credentials[name]

    def open(self, name: str) -> Connection:
        """A new verified-TLS connection to environment ``name`` (retried on transient
        failures; a TLS refusal fails at once)."""
        env = self.config.environments[name]
        creds = self.credentials(name)

        def connect() -> Connection:
            try:
                return self.dialect.connect(
                    env.host, env.port, creds.username, creds.password, env.dbname
                )
            except rdstls.TlsConfigError as exc:
                raise ConfigError(str(exc), environment=name) from exc
            except Exception as exc:
                refused = rdstls.refusal(exc)
                if refused is None:
                    raise
                raise ConnectionRefused(
                    f"{name} ({env.host}:{env.port}): {refused}", environment=name
                ) from exc

        return with_retry(
            connect, is_transient=self.is_transient, policy=self.policy, what=f"connect to {name}"
        )


def close_quietly(conn: Connection | None) -> None:
    """Close, ignoring errors: used on paths that already report a failure."""
    if conn is None:
        return
    try:
        conn.close()
    except Exception as exc:  # a broken connection may fail to close; nothing to do
        log("debug", "close_failed", error=repr(exc))
