"""Shared fixtures: session-wide MariaDB and PostgreSQL servers (see ``dbservers.py``), and
AWS served by moto."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# ``dbservers`` sits beside this file; make it importable whether or not tests/ is a package.
sys.path.insert(0, str(Path(__file__).resolve().parent))
# The modules every Lambda zip carries at its root (verified TLS to RDS).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lambda" / "shared"))

from dbservers import DBServer, mariadb_server, postgres_server

__all__ = ["DBServer", "mariadb_server", "postgres_server"]


# The Lambda tests deploy nothing real: every AWS call goes to moto in this region.
REGION = "us-east-1"


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
