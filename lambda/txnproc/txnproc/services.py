"""What the processor needs, made once per execution environment and reused.

Lambda keeps module state between invocations of one sandbox: the database connection and
the boto3 clients live here. A changed configuration (only ever in tests, or a redeploy that
starts fresh sandboxes anyway) builds a new set and closes the old connection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from txnproc import aws
from txnproc.config import ProcessorConfig
from txnproc.store import Store


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    config: ProcessorConfig
    store: Store
    sqs: Any
    dynamodb: Any
    s3: Any
    now: Callable[[], datetime] = field(default=utcnow)

    @classmethod
    def create(cls, config: ProcessorConfig) -> Services:
        return cls(
            config=config,
            store=Store(config),
            sqs=aws.client("sqs", config.region, fast=True),
            dynamodb=aws.client("dynamodb", config.region),
            s3=aws.client("s3", config.region),
        )


_current: Services | None = None


def current(config: ProcessorConfig) -> Services:
    global _current
    if _current is None or _current.config != config:
        reset()
        _current = Services.create(config)
    return _current


def reset() -> None:
    """Forget the cached services (closing the connection): a cold start, for tests."""
    global _current
    if _current is not None:
        _current.store.close()
    _current = None
