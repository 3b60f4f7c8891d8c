"""sync_reference_data against real MariaDB and PostgreSQL servers (both engines)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from replsync.errors import SyncFailed
from replsync_helpers import (
    CURRENCY_COLUMNS,
    CURRENCY_DDL,
    FX_COLUMNS,
    FX_DDL,
    ITEM_DDL,
    SYNCED,
    code_of,
    counter_trigger,
    currency_row,
    failing_trigger,
    fx_rows,
    insert_rows,
)
from replsync_stack import NAMESPACE, Stack, json_lines

CURRENCY = {"name": "currency", "key": None, "exclude_columns": ["local_note"]}


def synced(stack: Stack, env: str) -> list[tuple[Any, ...]]:
    return stack.query(env, f"SELECT {SYNCED} FROM currency ORDER BY code")


def full(stack: Stack, env: str, table: str = "currency", order: str = "code") -> list[Any]:
    return stack.query(env, f"SELECT * FROM {table} ORDER BY {order}")


def writes(stack: Stack, env: str) -> int:
    return int(stack.query(env, "SELECT n FROM writes")[0][0])


def seed_currency_mix(stack: Stack) -> None:
    """300 source rows; staging misses 20, has 25 changed and 15 extra rows."""
    stack.everywhere(CURRENCY_DDL)
    insert_rows(stack, "dev", "currency", CURRENCY_COLUMNS, [currency_row(i) for i in range(300)])
    target = [currency_row(i, local_note=f"keep-{i}") for i in range(300) if i % 15 != 7]
    target += [currency_row(i, local_note="extra") for i in range(1000, 1015)]
    insert_rows(stack, "staging", "currency", CURRENCY_COLUMNS, target)
    changed = [i for i in range(0, 300, 12)][:25]  # 25 rows spread over the key space
    assert not [i for i in changed if i % 15 == 7]
    for n, i in enumerate(changed):
        change = [
            "UPDATE currency SET name = 'renamed' WHERE code = %s",
            "UPDATE currency SET rate = rate + 0.000001 WHERE code = %s",
            "UPDATE currency SET note = CASE WHEN note IS NULL THEN '' ELSE NULL END "
            "WHERE code = %s",
            "UPDATE currency SET introduced = NULL WHERE code = %s",
            "UPDATE currency SET active = NOT active WHERE code = %s",
        ][n % 5]
        stack.execute("staging", change, params=(code_of(i),))
    stack.set_tables([CURRENCY])


def test_sync_makes_target_equal_with_exact_counts(stack: Stack) -> None:
    seed_currency_mix(stack)
    stack.execute("staging", *counter_trigger(stack.engine, "currency"))
    before_notes = dict(stack.query("staging", "SELECT code, local_note FROM currency"))

    response = stack.invoke(action="sync_reference_data", source="dev", target="staging")

    assert response["status"] == "ok"
    assert (response["source"], response["target"], response["dry_run"]) == (
        "dev",
        "staging",
        False,
    )
    [table] = response["tables"]
    assert (
        table["name"],
        table["inserted"],
        table["updated"],
        table["deleted"],
        table["unchanged"],
    ) == ("currency", 20, 25, 15, 255)
    assert table["seconds"] >= 0
    assert synced(stack, "staging") == synced(stack, "dev")
    # Only changed rows were written: one trigger firing per insert/update/delete.
    assert writes(stack, "staging") == 60
    # The excluded column was neither copied nor touched.
    after_notes = dict(stack.query("staging", "SELECT code, local_note FROM currency"))
    for code, note in after_notes.items():
        assert note == before_notes.get(code)  # None for inserted rows
    assert "src-0" not in after_notes.values()


def test_second_run_writes_nothing(stack: Stack) -> None:
    seed_currency_mix(stack)
    stack.invoke(action="sync_reference_data", source="dev", target="staging")
    stack.execute("staging", *counter_trigger(stack.engine, "currency"))
    before = full(stack, "staging")

    response = stack.invoke(action="sync_reference_data", source="dev", target="staging")

    [table] = response["tables"]
    assert (table["inserted"], table["updated"], table["deleted"], table["unchanged"]) == (
        0,
        0,
        0,
        300,
    )
    assert writes(stack, "staging") == 0
    assert full(stack, "staging") == before


def test_dry_run_counts_but_writes_nothing(stack: Stack) -> None:
    seed_currency_mix(stack)
    before = full(stack, "staging")

    response = stack.invoke(
        action="sync_reference_data", source="dev", target="staging", dry_run=True
    )

    assert response["dry_run"] is True
    [table] = response["tables"]
    assert (table["inserted"], table["updated"], table["deleted"]) == (20, 25, 15)
    assert full(stack, "staging") == before


def test_null_and_empty_string_differ(stack: Stack) -> None:
    stack.everywhere(CURRENCY_DDL)
    rows = [currency_row(i) for i in range(200)]
    insert_rows(stack, "dev", "currency", CURRENCY_COLUMNS, rows)
    insert_rows(stack, "staging", "currency", CURRENCY_COLUMNS, rows)
    # Row 0 has note NULL and row 1 has '': swap them on the target only.
    stack.execute("staging", "UPDATE currency SET note = '' WHERE code = %s", params=(code_of(0),))
    stack.execute(
        "staging", "UPDATE currency SET note = NULL WHERE code = %s", params=(code_of(1),)
    )
    stack.set_tables([CURRENCY])

    [table] = stack.invoke(action="sync_reference_data", source="dev", target="staging")["tables"]

    assert (table["updated"], table["unchanged"]) == (2, 198)
    assert synced(stack, "staging") == synced(stack, "dev")
    notes = stack.query(
        "staging",
        "SELECT note FROM currency WHERE code IN (%s, %s) ORDER BY code",
        params=(code_of(0), code_of(1)),
    )
    assert notes == [(None,), ("",)]


def test_composite_key_from_config(stack: Stack) -> None:
    stack.everywhere(FX_DDL)
    source = fx_rows(40)  # 480 rows, no primary key: the configured key identifies them
    insert_rows(stack, "dev", "fx_rate", FX_COLUMNS, source)
    target = [(*r[:4], "target") for r in source if r[2].day % 9 != 3]
    target += [("EUR", "AUD", r[2].replace(year=2030), r[3], "target") for r in source[:11]]
    insert_rows(stack, "staging", "fx_rate", FX_COLUMNS, target)
    stack.execute(
        "staging",
        "UPDATE fx_rate SET rate = rate * 2 WHERE quote = 'CHF' AND "
        "base = 'GBP' AND day < '2024-01-20'",
    )
    stack.set_tables(
        [{"name": "fx_rate", "key": ["base", "quote", "day"], "exclude_columns": ["source_system"]}]
    )
    missing = len(source) - len([r for r in source if r[2].day % 9 != 3])
    updated = len(
        [
            r
            for r in source
            if r[0] == "GBP" and r[1] == "CHF" and r[2] < date(2024, 1, 20) and r[2].day % 9 != 3
        ]
    )

    [table] = stack.invoke(action="sync_reference_data", source="dev", target="staging")["tables"]

    assert (table["inserted"], table["updated"], table["deleted"]) == (missing, updated, 11)
    order = "base, quote, day"
    cols = "base, quote, day, rate"
    assert stack.query("staging", f"SELECT {cols} FROM fx_rate ORDER BY {order}") == stack.query(
        "dev", f"SELECT {cols} FROM fx_rate ORDER BY {order}"
    )
    # source_system excluded: kept on old rows, never 'src' anywhere on the target.
    systems = {r[0] for r in stack.query("staging", "SELECT source_system FROM fx_rate")}
    assert systems == {"target", None}


@pytest.mark.parametrize("changes", [7, 900], ids=["sparse", "dense"])
def test_bisection_finds_scattered_changes(stack: Stack, changes: int) -> None:
    stack.everywhere(ITEM_DDL)
    rows = [(i * 3, f"label {i}", i % 11) for i in range(3000)]
    insert_rows(stack, "dev", "item", ("id", "label", "qty"), rows)
    step = 3000 // changes
    target = [(i, label, qty + 1 if (i // 3) % step == 1 else qty) for i, label, qty in rows]
    insert_rows(stack, "staging", "item", ("id", "label", "qty"), target)
    stack.set_tables([{"name": "item"}])
    expected = len([1 for i, _, _ in rows if (i // 3) % step == 1])

    [table] = stack.invoke(action="sync_reference_data", source="dev", target="staging")["tables"]

    assert (table["updated"], table["inserted"], table["deleted"]) == (expected, 0, 0)
    assert table["unchanged"] == 3000 - expected
    assert full(stack, "staging", "item", "id") == full(stack, "dev", "item", "id")


def test_identical_changes_in_one_range_do_not_cancel(stack: Stack) -> None:
    """Regression: with BIT_XOR(CRC32(row)) two same-length rows changed the same way cancel
    out (CRC is linear), so the range looked unchanged and the update was lost."""
    stack.everywhere(ITEM_DDL)
    rows = [(i, "label", 5) for i in range(10, 60)]  # same length, one range
    insert_rows(stack, "dev", "item", ("id", "label", "qty"), rows)
    insert_rows(stack, "staging", "item", ("id", "label", "qty"), rows)
    stack.execute("staging", "UPDATE item SET qty = 6 WHERE id IN (11, 13, 17, 19)")
    stack.set_tables([{"name": "item"}])

    [table] = stack.invoke(action="sync_reference_data", source="dev", target="staging")["tables"]

    assert table["updated"] == 4
    assert full(stack, "staging", "item", "id") == full(stack, "dev", "item", "id")


def test_empty_target_and_empty_source(stack: Stack) -> None:
    stack.everywhere(ITEM_DDL)
    insert_rows(stack, "dev", "item", ("id", "label", "qty"), [(i, "x", i) for i in range(150)])
    insert_rows(stack, "prod", "item", ("id", "label", "qty"), [(i, "y", i) for i in range(90)])
    stack.set_tables([{"name": "item"}])

    [to_staging] = stack.invoke(action="sync_reference_data", source="dev", target="staging")[
        "tables"
    ]
    stack.execute("dev", "DELETE FROM item")
    [to_prod] = stack.invoke(action="sync_reference_data", source="dev", target="prod")["tables"]

    assert (to_staging["inserted"], to_staging["deleted"]) == (150, 0)
    assert (to_prod["inserted"], to_prod["deleted"]) == (0, 90)
    assert stack.query("prod", "SELECT COUNT(*) FROM item") == [(0,)]


def test_all_configured_tables_by_default(stack: Stack) -> None:
    stack.everywhere(CURRENCY_DDL, ITEM_DDL)
    insert_rows(stack, "dev", "currency", CURRENCY_COLUMNS, [currency_row(i) for i in range(30)])
    insert_rows(stack, "dev", "item", ("id", "label", "qty"), [(1, "a", 1)])
    stack.set_tables([CURRENCY, {"name": "item"}])

    response = stack.invoke(action="sync_reference_data", source="dev", target="prod")

    assert [(t["name"], t["inserted"]) for t in response["tables"]] == [
        ("currency", 30),
        ("item", 1),
    ]


@pytest.mark.parametrize("op", ["INSERT", "UPDATE"])
def test_failure_half_way_rolls_back_everything(
    stack: Stack, op: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_currency_mix(stack)
    # Fail on a row written after deletes (and, for INSERT, after the updates) have run.
    bad = code_of(299) if op == "INSERT" else code_of(288)
    if op == "INSERT":
        stack.execute("staging", "DELETE FROM currency WHERE code = %s", params=(bad,))
    stack.execute("staging", *failing_trigger(stack.engine, "currency", op, "code", bad))
    before = full(stack, "staging")
    capsys.readouterr()

    with pytest.raises(SyncFailed) as raised:
        stack.invoke(action="sync_reference_data", source="dev", target="staging")

    assert "injected failure" in str(raised.value)
    assert raised.value.details["table"] == "currency"
    assert full(stack, "staging") == before  # byte-for-byte the same rows
    lines = json_lines(capsys.readouterr().out)
    failed = [line for line in lines if line.get("event") == "table_sync_failed"]
    assert failed and failed[0]["table"] == "currency" and failed[0]["level"] == "error"
    metrics = [line for line in lines if "_aws" in line]
    assert metrics[-1]["SyncFailures"] == 1 and metrics[-1]["RowsChanged"] == 0


def test_failure_reported_by_run_as_status_error(stack: Stack) -> None:
    seed_currency_mix(stack)
    stack.execute(
        "staging", *failing_trigger(stack.engine, "currency", "UPDATE", "code", code_of(0))
    )

    response = stack.run(action="sync_reference_data", source="dev", target="staging")

    assert response["status"] == "error"
    assert response["error"] == "SyncFailed"
    assert response["table"] == "currency"


def test_logs_and_metrics(stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    seed_currency_mix(stack)
    capsys.readouterr()

    stack.invoke(action="sync_reference_data", source="dev", target="staging")

    lines = json_lines(capsys.readouterr().out)
    [synced_line] = [line for line in lines if line.get("event") == "table_synced"]
    assert synced_line["level"] == "info"
    assert (synced_line["source"], synced_line["target"], synced_line["table"]) == (
        "dev",
        "staging",
        "currency",
    )
    assert synced_line["inserted"] == 20
    [emf] = [line for line in lines if "SyncLagSeconds" in line]
    [directive] = emf["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == NAMESPACE
    assert directive["Dimensions"] == [["Target"]]
    assert {m["Name"] for m in directive["Metrics"]} == {
        "SyncLagSeconds",
        "RowsChanged",
        "SyncFailures",
    }
    assert emf["Target"] == "staging"
    assert emf["RowsChanged"] == 60 and emf["SyncFailures"] == 0
    assert emf["SyncLagSeconds"] >= 0
    [stale] = [line for line in lines if "TargetStalenessSeconds" in line]
    [directive] = stale["_aws"]["CloudWatchMetrics"]
    assert directive["Dimensions"] == [["Target"], ["Target", "Table"]]
    assert directive["Metrics"] == [{"Name": "TargetStalenessSeconds", "Unit": "Seconds"}]
    assert (stale["Target"], stale["Table"]) == ("staging", "currency")
    # At the end of the run the target matched the source as of the snapshot: seconds ago.
    assert 0 <= stale["TargetStalenessSeconds"] < emf["SyncLagSeconds"] + 1


def test_staleness_is_reported_only_for_targets_brought_up_to_date(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    """A dry run changes nothing and a failed table is not up to date: neither reports a
    staleness, so the alarm sees missing data (breaching) once the schedule is overdue."""
    seed_currency_mix(stack)
    stack.invoke(action="sync_reference_data", source="dev", target="staging", dry_run=True)
    stack.execute("staging", "DROP TABLE currency")
    stack.run(action="sync_reference_data", source="dev", target="staging")
    lines = json_lines(capsys.readouterr().out)
    assert not [line for line in lines if "TargetStalenessSeconds" in line]
    assert [line["SyncFailures"] for line in lines if "SyncFailures" in line] == [0, 1]


def test_schema_mismatch_is_a_sync_failure(stack: Stack) -> None:
    stack.execute("dev", CURRENCY_DDL)
    stack.execute("staging", ITEM_DDL)
    stack.set_tables([CURRENCY])

    response = stack.run(action="sync_reference_data", source="dev", target="staging")

    assert response["status"] == "error" and response["error"] == "SyncFailed"
    assert "does not exist in the target" in response["message"]


def test_row_by_row_fallback_when_digest_list_is_cut(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the server truncates the concatenated digests (group_concat_max_len), the range is
    compared row by row instead, with the same result."""
    from replsync.refdata import Side

    monkeypatch.setattr(Side, "digest_sets", lambda self, batches: [None] * len(batches))
    seed_currency_mix(stack)

    [table] = stack.invoke(action="sync_reference_data", source="dev", target="staging")["tables"]

    assert (table["inserted"], table["updated"], table["deleted"], table["unchanged"]) == (
        20,
        25,
        15,
        255,
    )
    assert synced(stack, "staging") == synced(stack, "dev")
