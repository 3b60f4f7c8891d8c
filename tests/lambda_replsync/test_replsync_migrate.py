"""migrate (scripts from moto S3) and status, against real servers (both engines)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from replsync.errors import ChecksumMismatch, MigrationFailed
from replsync.migrate import parse_name, version_key
from replsync_stack import Stack

Upload = Callable[[str, str], None]

V1 = """-- first migration; a semicolon in a comment
CREATE TABLE account (id INT NOT NULL PRIMARY KEY, name VARCHAR(100) NOT NULL);
/* block comment; with ; inside */
INSERT INTO account VALUES (1, 'semi;colon'), (2, 'it''s');
"""
V1_1 = {
    "postgres": """CREATE FUNCTION shout(t text) RETURNS text LANGUAGE plpgsql AS $fn$
BEGIN
  RETURN upper(t) || ';';
END
$fn$;
INSERT INTO account VALUES (3, E'back\\\\slash; and \\' quote');
INSERT INTO account VALUES (5, shout('x'));
""",
    "mysql": """DELIMITER //
CREATE FUNCTION shout(t TEXT) RETURNS TEXT DETERMINISTIC
BEGIN
  RETURN CONCAT(UPPER(t), ';');
END//
DELIMITER ;
INSERT INTO account VALUES (3, 'back\\\\slash; and \\' quote');
INSERT INTO account VALUES (5, shout('x'));
""",
}
V2 = "INSERT INTO account VALUES (4, 'four');\nUPDATE account SET name = 'one' WHERE id = 1;\n"
V10 = "CREATE TABLE late (id INT);"


def history(stack: Stack, env: str = "staging") -> list[tuple[object, ...]]:
    rows = stack.query(
        env,
        "SELECT version, description, checksum, duration_ms, success, "
        "applied_at FROM replgen_schema_history",
    )
    return sorted(rows, key=lambda r: version_key(str(r[0])))


def has_table(stack: Stack, env: str, name: str) -> bool:
    schema = "DATABASE()" if stack.engine == "mysql" else "current_schema()"
    rows = stack.query(
        env,
        "SELECT COUNT(*) FROM information_schema.tables "
        f"WHERE table_name = %s AND table_schema = {schema}",
        params=(name,),
    )
    return bool(rows[0][0])


def upload_standard(stack: Stack, upload: Upload) -> None:
    upload("V10__late.sql", V10)
    upload("V2__seed.sql", V2)
    upload("V1__create_tables.sql", V1)
    upload("V1.1__function_and_quotes.sql", V1_1[stack.engine])
    upload("README.txt", "not a migration")


def test_applies_in_numeric_order_once(stack: Stack, upload: Upload) -> None:
    upload_standard(stack, upload)

    response = stack.invoke(action="migrate", target="staging")

    assert response["status"] == "ok"
    assert [a["version"] for a in response["applied"]] == ["1", "1.1", "2", "10"]
    rows = history(stack)
    assert [r[0] for r in rows] == ["1", "1.1", "2", "10"]
    assert [r[1] for r in rows] == ["create tables", "function and quotes", "seed", "late"]
    assert rows[0][2] == hashlib.sha256(V1.encode()).hexdigest()
    assert all(bool(r[4]) for r in rows) and all(r[3] >= 0 for r in rows)
    applied_at = [r[5] for r in rows]
    assert applied_at == sorted(applied_at)
    names = dict(stack.query("staging", "SELECT id, name FROM account"))
    assert names == {1: "one", 2: "it's", 3: "back\\slash; and ' quote", 4: "four", 5: "X;"}
    assert has_table(stack, "staging", "late")
    assert not has_table(stack, "dev", "account")  # only the target was touched

    again = stack.invoke(action="migrate", target="staging")

    assert again["applied"] == []
    assert again["skipped"] == ["1", "1.1", "2", "10"]
    assert len(history(stack)) == 4


def test_dry_run_lists_pending_only(stack: Stack, upload: Upload) -> None:
    upload_standard(stack, upload)

    response = stack.invoke(action="migrate", target="staging", dry_run=True)

    assert response["pending"] == ["1", "1.1", "2", "10"] and response["applied"] == []
    assert history(stack) == []
    assert not has_table(stack, "staging", "account")


def test_edited_applied_script_is_an_error(stack: Stack, upload: Upload) -> None:
    upload_standard(stack, upload)
    stack.invoke(action="migrate", target="staging")
    upload("V2__seed.sql", V2 + "-- edited afterwards\n")
    upload("V11__never.sql", "CREATE TABLE never_applied (id INT);")

    response = stack.run(action="migrate", target="staging")

    assert response["status"] == "error"
    assert response["error"] == "ChecksumMismatch"
    assert response["version"] == "2"
    assert not has_table(stack, "staging", "never_applied")
    assert [r[0] for r in history(stack)] == ["1", "1.1", "2", "10"]
    with pytest.raises(ChecksumMismatch):
        stack.invoke(action="migrate", target="staging")


def test_failing_script_is_recorded_and_stops_the_run(stack: Stack, upload: Upload) -> None:
    upload("V1__ok.sql", "CREATE TABLE one (id INT);")
    upload("V3__broken.sql", "CREATE TABLE three (id INT);\nINSERT INTO nowhere VALUES (1);")
    upload("V4__after.sql", "CREATE TABLE four (id INT);")

    with pytest.raises(MigrationFailed) as raised:
        stack.invoke(action="migrate", target="staging")

    assert raised.value.details["version"] == "3"
    assert [a["version"] for a in raised.value.details["applied"]] == ["1"]
    assert "nowhere" in raised.value.message
    rows = history(stack)
    assert [(r[0], bool(r[4])) for r in rows] == [("1", True), ("3", False)]
    assert not has_table(stack, "staging", "four")
    transactional = stack.engine == "postgres"
    # PostgreSQL rolled the whole script back; MySQL had already committed its DDL.
    assert has_table(stack, "staging", "three") is not transactional

    upload("V3__broken.sql", "CREATE TABLE three (id INT);")
    if transactional:
        response = stack.invoke(action="migrate", target="staging")
        assert [a["version"] for a in response["applied"]] == ["3", "4"]
        assert [(r[0], bool(r[4])) for r in history(stack)] == [
            ("1", True),
            ("3", True),
            ("4", True),
        ]
    else:
        with pytest.raises(MigrationFailed, match="failed earlier"):
            stack.invoke(action="migrate", target="staging")
        assert not has_table(stack, "staging", "four")


def test_status_reports_reachability_and_versions(stack: Stack, upload: Upload) -> None:
    upload("V1__a.sql", "CREATE TABLE a (id INT);")
    upload("V2__b.sql", "CREATE TABLE b (id INT);")
    stack.invoke(action="migrate", target="staging")
    environments = dict(stack.config["environments"])
    environments["prod"] = dict(environments["prod"], port=1)  # nothing listens there
    stack.set_config(environments=environments)

    response = stack.invoke(action="status")

    envs = response["environments"]
    assert envs["staging"] == {"reachable": True, "latest_migration": "2", "error": None}
    assert envs["dev"] == {"reachable": True, "latest_migration": None, "error": None}
    assert envs["prod"]["reachable"] is False and envs["prod"]["error"]


def test_migrate_refuses_unknown_target(stack: Stack) -> None:
    assert stack.invoke(action="migrate", target="qa")["status"] == "refused"


def test_version_order_is_numeric_per_part() -> None:
    versions = ["10", "2", "1.1", "1", "1.10", "1.2", "1.0.1"]
    assert sorted(versions, key=version_key) == ["1", "1.0.1", "1.1", "1.2", "1.10", "2", "10"]
    assert version_key("1.0") == version_key("1")
    assert parse_name("migrations/V1.2__add_index.sql") == ("1.2", "add index")
    assert parse_name("migrations/v1__lower.sql") is None
    assert parse_name("migrations/V1_single_underscore.sql") is None


def test_duplicate_versions_are_rejected(stack: Stack, upload: Upload) -> None:
    upload("V1__a.sql", "CREATE TABLE a (id INT);")
    upload("V1.0__b.sql", "CREATE TABLE b (id INT);")

    response = stack.run(action="migrate", target="staging")

    assert response["error"] == "MigrationFailed" and "two scripts" in response["message"]
    assert not has_table(stack, "staging", "a")
