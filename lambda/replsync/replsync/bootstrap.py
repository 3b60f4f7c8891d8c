"""The deploy-time ``bootstrap`` action: create the sync's own user in one environment.

It is the only path that reads the master secret, and it runs in its own function under its
own role (invoked by the deployment: a CloudFormation custom resource, or Terraform's
``aws_lambda_invocation``), so the run-time function's role cannot read that secret at all.
It does not depend on any migration: it creates the user if missing, then resets the user's
grants to what ``users.access_for`` says, in one transaction where the engine allows. A
configured reference table that does not exist yet is reported, not granted; run the
bootstrap again (redeploy) once it exists.
"""

from __future__ import annotations

from typing import Any

from replsync.connect import Connector, close_quietly, read_secret
from replsync.dialect import Connection
from replsync.observe import log
from replsync.policy import environment
from replsync.runtime import Request, Runtime
from replsync.users import (
    Access,
    access_for,
    check_user,
    iam_identify,
    mysql_grants,
    postgres_grants,
)


def _user_exists(engine: str, conn: Connection, user: str) -> bool:
    cur = conn.cursor()
    if engine == "mysql":
        cur.execute("SELECT COUNT(*) FROM mysql.user WHERE User = %s", (user,))
    else:
        cur.execute("SELECT COUNT(*) FROM pg_roles WHERE rolname = %s", (user,))
    return bool(cur.fetchone()[0])


def _existing(runtime: Runtime, conn: Connection, tables: tuple[str, ...]) -> tuple[str, ...]:
    cur = conn.cursor()
    return tuple(t for t in tables if runtime.dialect.has_table(cur, t))


def _statements(
    runtime: Runtime, conn: Connection, dbname: str, user: str, access: Access
) -> list[str]:
    if runtime.config.engine == "mysql":
        return mysql_grants(dbname, user, access)
    cur = conn.cursor()
    cur.execute("SELECT current_schema()")
    return postgres_grants(dbname, str(cur.fetchone()[0]), user, access)


def bootstrap(request: Request, runtime: Runtime) -> dict[str, Any]:
    """The ``bootstrap`` action: ``{"action": "bootstrap", "target": env}``."""
    target = environment(runtime.config, request.target, "target")
    user = check_user(target.user)
    engine = runtime.config.engine
    wanted = access_for(runtime.config, target.name)
    master = Connector(runtime.config, runtime.dialect, read_secret, runtime.connector.policy)
    conn = master.open(target.name)
    try:
        created = not _user_exists(engine, conn, user)
        identify = runtime.identify or iam_identify
        statements = identify(engine, user) if created else []
        present_w = _existing(runtime, conn, wanted.write)
        present_r = _existing(runtime, conn, wanted.read)
        access = Access(wanted.migrations, present_w, present_r)
        statements += _statements(runtime, conn, target.dbname, user, access)
        cur = conn.cursor()
        for statement in statements:
            cur.execute(statement)
        conn.commit()
    finally:
        close_quietly(conn)
    missing = sorted({*wanted.write, *wanted.read} - {*present_w, *present_r})
    log("info", "bootstrap_done", target=target.name, user=user, created=created, missing=missing)
    return {
        "status": "ok",
        "action": "bootstrap",
        "target": target.name,
        "user": user,
        "created": created,
        "migrations": access.migrations,
        "write": list(access.write),
        "read": list(access.read),
        "missing_tables": missing,
    }
