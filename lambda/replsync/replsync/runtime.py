"""The validated request and what an action needs to run (config, dialect, connections)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from replsync.config import Config
from replsync.connect import Connector
from replsync.dialect import Dialect, get_dialect
from replsync.users import Identify


@dataclass(frozen=True)
class Request:
    action: str
    source: str | None = None
    target: str | None = None
    tables: tuple[str, ...] | None = None  # None: every configured table
    dry_run: bool = False
    # migrate: the run's object version set (key -> VersionId) from its first step;
    # None: list the bucket (once) and return the set.
    versions: dict[str, str] | None = None


def _default_s3() -> Any:
    import boto3

    return boto3.client("s3")


@dataclass
class Runtime:
    config: Config
    dialect: Dialect
    connector: Connector
    s3: Callable[[], Any] = field(default=_default_s3)
    # How bootstrap creates the user (None: IAM authentication, as on Aurora). Tests give
    # their user a password instead: a test server cannot validate IAM tokens.
    identify: Identify | None = None

    @classmethod
    def from_config(cls, config: Config) -> Runtime:
        dialect = get_dialect(config.engine)
        return cls(config, dialect, Connector(config, dialect))
