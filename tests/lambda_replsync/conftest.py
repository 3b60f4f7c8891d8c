"""Fixtures for the replsync Lambda: real servers (tests/dbservers.py), AWS from moto."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from replsync_stack import BUCKET, REGION, Stack, make_stack


@pytest.fixture(params=["mysql", "postgres"])
def server(request: pytest.FixtureRequest) -> Any:
    """The session server of the parametrised engine (only the one needed is started)."""
    name = {"mysql": "mariadb_server", "postgres": "postgres_server"}[request.param]
    return request.getfixturevalue(name)


@pytest.fixture
def stack(server: Any, aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    built = make_stack(server, monkeypatch)
    yield built
    built.close()


@pytest.fixture
def upload(aws: None) -> Callable[[str, str], None]:
    import boto3

    s3 = boto3.client("s3", region_name=REGION)

    def put(name: str, body: str) -> None:
        s3.put_object(Bucket=BUCKET, Key=f"migrations/{name}", Body=body.encode())

    return put
