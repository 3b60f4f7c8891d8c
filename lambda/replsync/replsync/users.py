"""The SQL that creates the sync's own database user and grants it what its actions need.

What an environment's user may do follows from the configuration alone:
- where migrations run (the environment is in ``promote``), everything in its database,
  DDL included, and nothing outside it (no GRANT OPTION, no other database);
- elsewhere no DDL: SELECT, INSERT, UPDATE, DELETE on the reference tables it receives and
  SELECT on those it is a source of, nothing on any other table.

Names come from the plan (a user name, a database name, configured table names), and are
checked again here before they are quoted into SQL.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from replsync.config import Config
from replsync.errors import ConfigError

USER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")  # MySQL's 32-character limit
MYSQL_HOST = "%"  # the user logs in from the sync functions' subnets, through the peering
WRITE = ("SELECT", "INSERT", "UPDATE", "DELETE")
READ = ("SELECT",)

# The statements that create a user and say how it authenticates: (engine, user) -> SQL.
Identify = Callable[[str, str], list[str]]


@dataclass(frozen=True)
class Access:
    """What the sync user may do in one environment."""

    migrations: bool  # DDL and DML on the whole database
    write: tuple[str, ...]  # reference tables it receives
    read: tuple[str, ...]  # reference tables it is a source of


def access_for(config: Config, env: str) -> Access:
    ref = config.reference_data
    tables = tuple(t.name for t in ref.tables)
    write = tables if env in ref.targets else ()
    read = tables if env in ref.sources() else ()
    return Access(env in config.promote, write, tuple(t for t in read if t not in write))


def check_user(user: str) -> str:
    if not USER_NAME.match(user):
        raise ConfigError(f"database user {user!r} is not a plain identifier of 32 or fewer")
    return user


def iam_identify(engine: str, user: str) -> list[str]:
    """A user that logs in with IAM tokens only (what Aurora documents for each engine)."""
    if engine == "mysql":
        return [
            f"CREATE USER IF NOT EXISTS '{user}'@'{MYSQL_HOST}' "
            "IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'"
        ]
    return [f'CREATE USER "{user}"', f'GRANT rds_iam TO "{user}"']


def mysql_grants(dbname: str, user: str, access: Access) -> list[str]:
    who = f"'{user}'@'{MYSQL_HOST}'"
    db = "`" + dbname.replace("`", "``") + "`"
    # Start from nothing, so a table dropped from the configuration loses its grant.
    statements = [
        f"REVOKE ALL PRIVILEGES, GRANT OPTION FROM {who}",
        f"ALTER USER {who} REQUIRE SSL",
    ]
    if access.migrations:
        return [*statements, f"GRANT ALL PRIVILEGES ON {db}.* TO {who}"]
    for privileges, tables in ((WRITE, access.write), (READ, access.read)):
        statements += [f"GRANT {', '.join(privileges)} ON {db}.`{t}` TO {who}" for t in tables]
    return statements


def postgres_grants(dbname: str, schema: str, user: str, access: Access) -> list[str]:
    who = f'"{user}"'
    db = '"' + dbname.replace('"', '""') + '"'
    sch = '"' + schema.replace('"', '""') + '"'
    if access.migrations:
        # Nothing to take back: the user may do everything in the database. (Revoking on
        # tables would, run by a true superuser, strip an owner of its own privileges.)
        return [
            f"GRANT CONNECT, CREATE, TEMPORARY ON DATABASE {db} TO {who}",
            f"GRANT USAGE, CREATE ON SCHEMA {sch} TO {who}",
            f"GRANT ALL ON ALL TABLES IN SCHEMA {sch} TO {who}",
            f"GRANT ALL ON ALL SEQUENCES IN SCHEMA {sch} TO {who}",
        ]
    # Start from nothing, so a table dropped from the configuration loses its grant.
    statements = [
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {sch} FROM {who}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {sch} FROM {who}",
        f"REVOKE ALL ON SCHEMA {sch} FROM {who}",
        f"REVOKE ALL ON DATABASE {db} FROM {who}",
        # TEMPORARY where it receives rows: the sync stages them in a temporary table (its
        # session's own, dropped at commit) for one UPDATE/INSERT per group.
        f"GRANT CONNECT{', TEMPORARY' if access.write else ''} ON DATABASE {db} TO {who}",
        f"GRANT USAGE ON SCHEMA {sch} TO {who}",
    ]
    for privileges, tables in ((WRITE, access.write), (READ, access.read)):
        statements += [f'GRANT {", ".join(privileges)} ON {sch}."{t}" TO {who}' for t in tables]
    return statements
