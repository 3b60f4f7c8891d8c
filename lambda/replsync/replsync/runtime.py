"""The validated request and what an action needs to run (config, dialect, connections)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from replsync.config import Config
from replsync.connect import Connector
from replsync.dialect import Dialect, get_dialect


@dataclass(frozen=True)
class Request:
    action: str
    source: str | None = None
    target: str | None = None
    tables: tuple[str, ...] | None = None  # None: every configured table
    dry_run: bool = False


def _default_s3() -> Any:
    import boto3

    return boto3.client("s3")


@dataclass
class Runtime:
    config: Config
    dialect: Dialect
    connector: Connector
    s3: Callable[[], Any] = field(default=_default_s3)

    @classmethod
    def from_config(cls, config: Config) -> Runtime:
        dialect = get_dialect(config.engine)
        return cls(config, dialect, Connector(config, dialect))
