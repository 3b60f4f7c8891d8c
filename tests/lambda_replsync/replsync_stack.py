"""The ``Stack`` test harness: dev/staging/prod databases, secrets in moto, REPLSYNC_CONFIG."""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "lambda" / "replsync") not in sys.path:
    sys.path.insert(0, str(ROOT / "lambda" / "replsync"))  # the Lambda's code root

from replsync import app, connect  # noqa: E402
from replsync.config import Environment, SyncSettings  # noqa: E402

REGION = "us-east-1"
ACCOUNT = "123456789012"
BUCKET = "replgen-migrations"
NAMESPACE = "replgen/test"


@dataclass
class Stack:
    """Three environments (dev, staging, prod) as three databases on one server, their secrets
    in moto, and REPLSYNC_CONFIG pointing at them."""

    server: Any
    monkeypatch: pytest.MonkeyPatch
    config: dict[str, Any] = field(default_factory=dict)
    dbs: dict[str, dict[str, Any]] = field(default_factory=dict)
    conns: dict[str, Any] = field(default_factory=dict)  # cached autocommit connections
    passwords: dict[str, str] = field(default_factory=dict)  # database user -> password

    @property
    def engine(self) -> str:
        return str(self.server.engine)

    def conn(self, env: str) -> Any:
        """A cached autocommit connection as the app user (closed by ``close``)."""
        if env not in self.conns:
            self.conns[env] = self.server.connect(self.dbs[env]["dbname"], autocommit=True)
        return self.conns[env]

    def close(self) -> None:
        for conn in self.conns.values():
            conn.close()
        self.conns.clear()

    def execute(self, env: str, *statements: str, params: Any = None) -> None:
        cur = self.conn(env).cursor()
        for sql in statements:
            cur.execute(sql) if params is None else cur.execute(sql, params)

    def query(self, env: str, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        cur = self.conn(env).cursor()
        cur.execute(sql) if params is None else cur.execute(sql, params)
        return [tuple(r) for r in cur.fetchall()]

    def everywhere(self, *statements: str) -> None:
        for env in self.dbs:
            self.execute(env, *statements)

    def set_config(self, **changes: Any) -> None:
        self.config.update(changes)
        self.monkeypatch.setenv("REPLSYNC_CONFIG", json.dumps(self.config))

    def set_tables(self, tables: list[dict[str, Any]]) -> None:
        ref = dict(self.config["reference_data"], tables=tables)
        self.set_config(reference_data=ref)

    def invoke(self, **event: Any) -> dict[str, Any]:
        return app.handler(event, None)

    def run(self, **event: Any) -> dict[str, Any]:
        return app.run(event)


def make_stack(
    server: Any, monkeypatch: pytest.MonkeyPatch, settings: SyncSettings | None = None
) -> Stack:
    import boto3

    stack = Stack(server, monkeypatch)
    monkeypatch.setenv("DB_CA_BUNDLE", str(server.tls.ca))  # the test servers' own CA
    # The run-time login is an IAM token for the configured user. A test server cannot
    # validate IAM tokens, so the token provider alone is stood in for: it answers with the
    # password the test gave that user. Everything else (login, TLS, grants) is real.
    passwords = {server.user: server.password}
    stack.passwords = passwords
    monkeypatch.setattr(connect, "iam_token", lambda env: token_for(passwords, env))
    secrets = boto3.client("secretsmanager", region_name=REGION)
    environments = {}
    names = ("dev", "staging", "prod")
    with ThreadPoolExecutor(len(names)) as pool:  # CREATE DATABASE is slow-ish on PostgreSQL
        infos = list(pool.map(lambda _name: server.new_database(), names))
    for name, info in zip(names, infos, strict=True):
        stack.dbs[name] = info
        arn = secrets.create_secret(
            Name=f"{info['dbname']}-{name}",
            SecretString=json.dumps(
                {  # the master user's secret: only bootstrap reads it
                    "username": server.admin_user,
                    "password": server.admin_password,
                    "engine": server.engine,
                    "host": "ignored.invalid",
                    "port": 1,
                }
            ),
        )["ARN"]
        environments[name] = {
            "host": info["host"],
            "port": info["port"],
            "dbname": info["dbname"],
            "secret_arn": arn,
            "user": info["user"],
            "region": REGION,
            "production": name == "prod",
            # staging signs its token (and bootstrap reads its secret) through an assumed
            # role, as cross-account environments do
            "role_arn": f"arn:aws:iam::{ACCOUNT}:role/replsync-{name}"
            if name == "staging"
            else None,
        }
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    settings = settings or SyncSettings(
        chunk_rows=64, fanout=4, leaf_rows=8, fetch_rows=100, write_batch=50
    )
    stack.set_config(
        engine=server.engine,
        environments=environments,
        promote=["dev", "staging", "prod"],
        reference_data={"source": "dev", "targets": ["staging", "prod"], "tables": []},
        migrations={"bucket": BUCKET, "prefix": "migrations/"},
        metrics_namespace=NAMESPACE,
        sync=settings.__dict__,
    )
    return stack


def token_for(passwords: dict[str, str], env: Environment) -> str:
    """The stand-in IAM token: the user's test password (unknown user: no login)."""
    return passwords.get(env.user, "no-such-user")


def json_lines(text: str) -> list[dict[str, Any]]:
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            out.append(json.loads(line))
    return out
