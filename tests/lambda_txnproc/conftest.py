"""Fixtures for the txnproc Lambda: the session PostgreSQL (tests/dbservers.py), AWS from
moto, a local HTTP server standing in for the primary region's /health."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from txnproc_helpers import HealthServer, Stack, make_stack


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
