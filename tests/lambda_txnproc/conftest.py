"""Fixtures for the txnproc Lambda: the session PostgreSQL (tests/dbservers.py), AWS from
moto, a local HTTP server standing in for the primary region's /health."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from txnproc_helpers import REGION, HealthServer, Stack, make_stack


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fake credentials + moto for every AWS call the test makes."""
    from moto import mock_aws

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield


@pytest.fixture
def stack(postgres_server: Any, aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    built = make_stack(postgres_server, monkeypatch)
    yield built
    built.close()


@pytest.fixture
def primary() -> Iterator[HealthServer]:
    server = HealthServer()
    yield server
    server.close()
