"""The sync's own database user: created by the deploy-time bootstrap (the only reader of the
master secret), granted exactly what each environment's actions need, and used at run time
through the IAM-token login, against real TLS-only servers (both engines)."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest
from dbservers import _connect
from replsync import app
from replsync.config import Environment, load_config
from replsync.connect import iam_token
from replsync.errors import ConfigError
from replsync.runtime import Runtime
from replsync.users import iam_identify
from replsync_helpers import CURRENCY_COLUMNS, CURRENCY_DDL, ITEM_DDL, currency_row, insert_rows
from replsync_stack import REGION, Stack

DENIED = "denied|permission|must be owner"  # MySQL 1142/1044, PostgreSQL 42501


def password_identify(passwords: dict[str, str]) -> Any:
    """Test stand-in for IAM authentication: the user gets a password the test knows (a test
    server cannot validate IAM tokens); every grant after it is the production SQL."""

    def identify(engine: str, user: str) -> list[str]:
        passwords[user] = secret = uuid.uuid4().hex
        if engine == "mysql":
            return [f"CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED BY '{secret}'"]
        return [f"CREATE USER \"{user}\" PASSWORD '{secret}'"]

    return identify


def own_users(stack: Stack) -> dict[str, str]:
    """A sync user per environment (users are server-wide; the three envs share a server).
    dev and staging run migrations; prod only receives reference data, from staging."""
    tag = uuid.uuid4().hex[:8]
    envs = stack.config["environments"]
    users = {name: f"sync_{tag}_{name}" for name in envs}
    stack.set_config(
        environments={name: dict(env, user=users[name]) for name, env in envs.items()},
        promote=["dev", "staging"],
        reference_data={
            "source": "dev",
            "targets": ["staging", "prod"],
            "routes": {"staging": "dev", "prod": "staging"},
            "tables": [{"name": "currency", "exclude_columns": ["local_note"]}],
        },
    )
    return users


def bootstrap(stack: Stack, target: str) -> dict[str, Any]:
    runtime = Runtime.from_config(load_config())
    runtime.identify = password_identify(stack.passwords)
    return app.execute({"action": "bootstrap", "target": target}, runtime)


def as_user(stack: Stack, env: str, user: str) -> Any:
    db = stack.dbs[env]
    server = stack.server
    password = stack.passwords[user]
    return _connect(
        server.engine, db["host"], db["port"], user, password, db["dbname"], True, server.tls.ca
    )


@pytest.fixture
def users(stack: Stack) -> dict[str, str]:
    stack.everywhere(CURRENCY_DDL, ITEM_DDL)
    return own_users(stack)


def test_bootstrap_grants_ddl_only_where_migrations_run(
    stack: Stack, users: dict[str, str]
) -> None:
    answers = {env: bootstrap(stack, env) for env in ("dev", "staging", "prod")}

    assert all(a["status"] == "ok" and a["created"] for a in answers.values())
    assert answers["prod"]["migrations"] is False and answers["prod"]["write"] == ["currency"]
    assert answers["staging"]["migrations"] is True
    staging = as_user(stack, "staging", users["staging"]).cursor()
    staging.execute("CREATE TABLE made_by_sync (id INT)")  # migrations run here: DDL allowed
    staging.execute("INSERT INTO item VALUES (1, 'x', 1)")
    prod_conn = as_user(stack, "prod", users["prod"])
    prod = prod_conn.cursor()
    prod.execute("INSERT INTO currency (code, name, active) VALUES ('AAA', 'a', TRUE)")
    prod.execute("DELETE FROM currency WHERE code = 'AAA'")
    if stack.engine == "postgres":  # where the sync stages the rows it writes
        prod.execute("CREATE TEMPORARY TABLE staged (LIKE currency)")
    for forbidden in (
        "INSERT INTO item VALUES (1, 'x', 1)",  # not a reference table
        "SELECT * FROM item",
        "CREATE TABLE sneaky (id INT)",  # no migrations in prod: no DDL
        "ALTER TABLE currency ADD COLUMN extra INT",
        "DROP TABLE currency",
    ):
        with pytest.raises(Exception, match=DENIED):
            prod.execute(forbidden)
        if stack.engine == "postgres":
            prod_conn.rollback()
    assert not stack.query("prod", "SELECT * FROM item")


def test_run_time_sync_uses_the_own_user_and_never_the_secret(
    stack: Stack, users: dict[str, str]
) -> None:
    for env in ("dev", "staging", "prod"):
        bootstrap(stack, env)
    rows = [currency_row(i) for i in range(30)]
    insert_rows(stack, "dev", "currency", CURRENCY_COLUMNS, rows)
    # The run-time function is configured without the master secret.
    envs = stack.config["environments"]
    stack.set_config(environments={n: dict(e, secret_arn=None) for n, e in envs.items()})

    to_staging = stack.invoke(action="sync_reference_data", source="dev", target="staging")
    to_prod = stack.invoke(action="sync_reference_data", source="staging", target="prod")

    assert to_staging["tables"][0]["inserted"] == 30 and to_prod["tables"][0]["inserted"] == 30
    cols = ", ".join(CURRENCY_COLUMNS[:-1])
    assert stack.query("prod", f"SELECT {cols} FROM currency ORDER BY code") == stack.query(
        "dev", f"SELECT {cols} FROM currency ORDER BY code"
    )
    with pytest.raises(ConfigError, match="no master secret"):
        bootstrap(stack, "prod")


def test_bootstrap_again_is_idempotent_and_follows_the_table_list(
    stack: Stack, users: dict[str, str]
) -> None:
    assert bootstrap(stack, "prod")["created"] is True
    stack.set_tables([{"name": "currency"}, {"name": "item"}, {"name": "later"}])

    again = bootstrap(stack, "prod")

    assert again["created"] is False
    assert again["write"] == ["currency", "item"] and again["missing_tables"] == ["later"]
    as_user(stack, "prod", users["prod"]).cursor().execute("INSERT INTO item VALUES (2, 'y', 2)")
    stack.set_tables([{"name": "currency"}])
    bootstrap(stack, "prod")
    with pytest.raises(Exception, match=DENIED):  # a table taken off the list loses its grant
        as_user(stack, "prod", users["prod"]).cursor().execute("DELETE FROM item")


def test_reference_data_reaches_prod_only_from_staging(stack: Stack, users: dict[str, str]) -> None:
    for env in ("dev", "staging", "prod"):
        bootstrap(stack, env)
    insert_rows(stack, "dev", "currency", CURRENCY_COLUMNS, [currency_row(i) for i in range(5)])

    skipped = stack.invoke(action="sync_reference_data", source="dev", target="prod")

    assert skipped["status"] == "refused"
    assert "takes reference data from 'staging' only" in skipped["reason"]
    assert stack.query("prod", "SELECT COUNT(*) FROM currency") == [(0,)]


def test_iam_statements_are_what_aurora_documents() -> None:
    assert iam_identify("mysql", "replgen_sync") == [
        "CREATE USER IF NOT EXISTS 'replgen_sync'@'%' "
        "IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'"
    ]
    assert iam_identify("postgres", "replgen_sync") == [
        'CREATE USER "replgen_sync"',
        'GRANT rds_iam TO "replgen_sync"',
    ]


def test_iam_token_is_signed_for_the_user_host_and_region(aws: None) -> None:
    role = boto3.client("iam", region_name=REGION).create_role(
        RoleName="replsync-access", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    env = Environment(
        "prod", "db.example.internal", 3306, "appdb", role_arn=role, user="replgen_sync"
    )
    env = Environment(**{**env.__dict__, "region": "eu-west-1"})

    token = iam_token(env)

    assert token.startswith("db.example.internal:3306/?Action=connect&DBUser=replgen_sync")
    assert "eu-west-1%2Frds-db%2Faws4_request" in token
    assert "X-Amz-Security-Token" in token  # signed with the assumed role's session
