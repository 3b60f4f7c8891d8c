"""The search paths of the reference-data sync, one regression test per path (both engines):
key slices level by level, dense and sparse levels, slices picked by number, slices cut
short, group-by-group writes in one transaction, the boundary walk for huge key spans,
binary and text row hashes; on PostgreSQL one aggregated pass at leaf size and writes
through a staging table (or statement by statement where temporary tables are refused)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from replsync import refdata, staging
from replsync.dialect import PostgresDialect
from replsync.errors import SyncFailed
from replsync.refdata import Side
from replsync_helpers import counter_trigger, failing_trigger, insert_rows
from replsync_stack import Stack, make_stack

ITEM = "CREATE TABLE item (id BIGINT NOT NULL PRIMARY KEY, label VARCHAR(40) NULL, qty INT NULL)"
COLUMNS = ("id", "label", "qty")


def seed(
    stack: Stack, ids: list[int], changed: list[int], missing: list[int], extra: list[int]
) -> tuple[int, int, int]:
    """``ids`` on the source; the target has ``changed`` with another qty, lacks ``missing``
    and has ``extra`` rows of its own. Returns the expected (inserted, updated, deleted)."""
    stack.everywhere(ITEM)
    rows = [(i, f"label {i} ü", i % 13) for i in ids]
    insert_rows(stack, "dev", "item", COLUMNS, rows)
    target = [(i, label, q + 1 if i in changed else q) for i, label, q in rows if i not in missing]
    target += [(i, "extra", None) for i in extra]
    insert_rows(stack, "staging", "item", COLUMNS, target)
    stack.set_tables([{"name": "item"}])
    return len(missing), len(changed), len(extra)


def table(stack: Stack, env: str) -> list[tuple[Any, ...]]:
    return stack.query(env, "SELECT id, label, qty FROM item ORDER BY id")


def sync(stack: Stack, **settings: Any) -> dict[str, Any]:
    stack.set_config(sync=dict(stack.config["sync"], **settings))
    [result] = stack.invoke(action="sync_reference_data", source="dev", target="staging")["tables"]
    return dict(result)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Records the calls of the Side queries the paths are told apart by."""
    seen: list[tuple[str, dict[str, Any]]] = []
    for name in ("bucket_checksums", "slice_pairs", "boundaries", "digest_sets"):
        original = getattr(Side, name)

        def spy(*args: Any, _name: str = name, _original: Any = original, **kwargs: Any) -> Any:
            seen.append((_name, kwargs))
            return _original(*args, **kwargs)

        monkeypatch.setattr(Side, name, spy)
    yield seen


def names(calls: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [name for name, _ in calls]


@pytest.fixture
def levels(monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL refines slices level by level too (as MariaDB does), instead of cutting
    the first level at leaf size."""
    monkeypatch.setattr(PostgresDialect, "flat_slices", False)


def test_slices_are_refined_level_by_level_over_the_differing_ranges(
    stack: Stack, calls: list[tuple[str, dict[str, Any]]], levels: None
) -> None:
    expected = seed(stack, [i * 3 for i in range(4000)], [30, 4500, 9000], [600, 11001], [7])

    result = sync(stack, chunk_rows=128, slice_fanout=4, slice_leaf_rows=4)

    assert (result["inserted"], result["updated"], result["deleted"]) == expected
    assert result["unchanged"] == 4000 - 5
    assert table(stack, "staging") == table(stack, "dev")
    levels = [kw for name, kw in calls if name == "bucket_checksums"]
    assert len(levels) >= 6  # at least three levels, both sides
    assert levels[0]["runs"] is None  # the first level reads every row
    assert all(kw["runs"] for kw in levels[2:])  # later ones only the differing ranges
    assert "boundaries" not in names(calls)  # no boundary walk for an integer key


def test_a_level_where_most_slices_differ_reads_the_whole_table(
    stack: Stack, calls: list[tuple[str, dict[str, Any]]], levels: None
) -> None:
    ids = list(range(1, 2001))
    expected = seed(stack, ids, ids[::2], [], [])

    result = sync(stack, chunk_rows=64, slice_fanout=4, slice_leaf_rows=2)

    assert (result["inserted"], result["updated"], result["deleted"]) == expected
    assert table(stack, "staging") == table(stack, "dev")
    levels = [kw["runs"] for name, kw in calls if name == "bucket_checksums"]
    assert levels[2] is None and levels[3] is None  # second level: the whole table again


def test_many_small_slices_are_picked_by_number(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, calls: list[tuple[str, dict[str, Any]]]
) -> None:
    monkeypatch.setattr(refdata, "RUNS_PER_QUERY", 2)  # more runs than OR-ed ranges allow
    ids = [i * 2 for i in range(1500)]
    expected = seed(stack, ids, ids[10::97], ids[5::301], [1, 1001, 2999])

    result = sync(stack, chunk_rows=32, slice_fanout=2, slice_leaf_rows=8)

    assert (result["inserted"], result["updated"], result["deleted"]) == expected
    assert table(stack, "staging") == table(stack, "dev")
    assert len([n for n in names(calls) if n == "slice_pairs"]) >= 2


def test_slices_cut_short_are_compared_row_by_row(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, calls: list[tuple[str, dict[str, Any]]]
) -> None:
    original = Side.slice_pairs

    def cut(self: Side, **kwargs: Any) -> dict[int, Any]:
        return {n: None for n in original(self, **kwargs)}  # as if group_concat_max_len hit

    monkeypatch.setattr(Side, "slice_pairs", cut)
    expected = seed(stack, list(range(0, 900)), [3, 450, 899], [12, 13], [2000, -5])

    result = sync(stack, chunk_rows=100)

    assert (result["inserted"], result["updated"], result["deleted"]) == expected
    assert result["unchanged"] == 900 - 5
    assert table(stack, "staging") == table(stack, "dev")
    assert "digest_sets" in names(calls)


def test_groups_are_written_in_one_transaction(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(refdata, "GROUP_ROWS", 40)  # many groups, each written in turn
    ids = list(range(1000))
    expected = seed(stack, ids, ids[::10], ids[5::50], [5000, 5001])

    result = sync(stack, chunk_rows=16)

    assert (result["inserted"], result["updated"], result["deleted"]) == expected
    assert table(stack, "staging") == table(stack, "dev")


@pytest.mark.parametrize("slices", [True, False], ids=["sliced", "walk"])
def test_a_failure_in_a_late_group_leaves_the_target_unchanged(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, slices: bool
) -> None:
    monkeypatch.setattr(refdata, "GROUP_ROWS", 40)
    if not slices:
        monkeypatch.setattr(refdata.Differ, "sliced", lambda self, changes: None)
    ids = list(range(1000))
    seed(stack, ids, ids[::10], ids[5::50], [5000])
    stack.execute("staging", *failing_trigger(stack.engine, "item", "UPDATE", "id", "990"))
    before = table(stack, "staging")

    with pytest.raises(SyncFailed, match="injected failure"):
        sync(stack, chunk_rows=16)

    assert table(stack, "staging") == before  # the earlier groups' writes rolled back too


def test_keys_too_far_apart_for_slices_take_the_boundary_walk(
    stack: Stack, calls: list[tuple[str, dict[str, Any]]]
) -> None:
    far = [-(2**62), -3, 0, 7, 2**62, 2**63 - 1]
    expected = seed(stack, far, [0], [7], [2**62 - 1])

    result = sync(stack)

    assert (result["inserted"], result["updated"], result["deleted"]) == expected
    assert table(stack, "staging") == table(stack, "dev")
    assert "boundaries" in names(calls) and "bucket_checksums" not in names(calls)


def test_negative_keys_are_decoded_with_their_sign(stack: Stack) -> None:
    expected = seed(stack, list(range(-600, 600, 3)), [-597, -3, 3], [-600, 597], [-1, -700])

    result = sync(stack, chunk_rows=50)

    assert (result["inserted"], result["updated"], result["deleted"]) == expected
    assert table(stack, "staging") == table(stack, "dev")


def test_rows_swapping_values_in_one_slice_are_found(stack: Stack) -> None:
    """Regression: PostgreSQL's record hash adds its column hashes linearly, so two rows
    swapping a value would leave a SUM of raw record hashes unchanged."""
    expected = seed(stack, list(range(100)), [], [], [])
    stack.execute("staging", "UPDATE item SET qty = 1000 WHERE id = 10")
    stack.execute("staging", "UPDATE item SET qty = 2000 WHERE id = 11")
    stack.execute("dev", "UPDATE item SET qty = 2000 WHERE id = 10")
    stack.execute("dev", "UPDATE item SET qty = 1000 WHERE id = 11")

    result = sync(stack)

    assert expected == (0, 0, 0)
    assert (result["inserted"], result["updated"], result["deleted"]) == (0, 2, 0)
    assert table(stack, "staging") == table(stack, "dev")


def test_text_row_hash_when_a_server_cannot_hash_binary_values(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(PostgresDialect, "binary_hash", lambda self, cur: False)  # before 14
    expected = seed(stack, list(range(500)), [1, 250], [499], [600])

    result = sync(stack, chunk_rows=64)

    assert (result["inserted"], result["updated"], result["deleted"]) == expected
    assert table(stack, "staging") == table(stack, "dev")


@pytest.fixture
def pg_stack(postgres_server: Any, aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    built = make_stack(postgres_server, monkeypatch)
    yield built
    built.close()


def test_values_equal_but_written_differently_are_synced(pg_stack: Stack) -> None:
    """A numeric without a declared scale has 1.0 = 1.00 and floats have 0 = -0: their own
    hash functions cannot tell them apart, so they are hashed as text."""
    pg_stack.everywhere(
        "CREATE TABLE m (id INT PRIMARY KEY, n NUMERIC, f DOUBLE PRECISION, j JSON, c CHAR(3))"
    )
    pg_stack.execute("dev", "INSERT INTO m VALUES (1, 1.00, -0.0, '{\"a\": 1}', 'ab')")
    pg_stack.execute("staging", "INSERT INTO m VALUES (1, 1.0, 0.0, '{\"a\":1}', 'ab')")
    pg_stack.set_tables([{"name": "m"}])

    [result] = pg_stack.invoke(action="sync_reference_data", source="dev", target="staging")[
        "tables"
    ]

    assert result["updated"] == 1
    row = "SELECT n::text, f::text, j::text, c FROM m"
    assert pg_stack.query("staging", row) == pg_stack.query("dev", row)


def test_binary_hash_only_for_columns_of_one_type_on_both_sides(pg_stack: Stack) -> None:
    pg_stack.execute("dev", "CREATE TABLE t (id INT PRIMARY KEY, v NUMERIC(6,2))")
    pg_stack.execute("staging", "CREATE TABLE t (id INT PRIMARY KEY, v NUMERIC(8,2))")
    pg_stack.execute("dev", "INSERT INTO t SELECT g, g / 4.0 FROM generate_series(1, 50) g")
    pg_stack.execute("staging", "INSERT INTO t SELECT g, g / 4.0 FROM generate_series(1, 50) g")
    pg_stack.set_tables([{"name": "t"}])

    [result] = pg_stack.invoke(action="sync_reference_data", source="dev", target="staging")[
        "tables"
    ]

    # Different types hash through their text, which agrees: nothing to write.
    assert (result["updated"], result["unchanged"]) == (0, 50)


def test_postgres_cuts_the_first_level_at_leaf_size(
    pg_stack: Stack, calls: list[tuple[str, dict[str, Any]]]
) -> None:
    expected = seed(pg_stack, [i * 3 for i in range(4000)], [30, 4500, 9000], [600], [7, 11999])

    result = sync(pg_stack, chunk_rows=2000, slice_fanout=64, slice_leaf_rows=16)

    assert (result["inserted"], result["updated"], result["deleted"]) == expected
    assert table(pg_stack, "staging") == table(pg_stack, "dev")
    levels = [kw for name, kw in calls if name == "bucket_checksums"]
    assert [kw["runs"] for kw in levels] == [None, None]  # one pass per side, nothing more
    # A fresh table has no row estimate yet, so the key span stands for the row count.
    assert {kw["width"] for kw in levels} == {16}
    [src, _tgt] = [kw for name, kw in calls if name == "slice_pairs"]
    assert len(src["numbers"]) == 6  # just the slices holding a difference


@pytest.fixture
def staged(monkeypatch: pytest.MonkeyPatch) -> list[staging.Staged]:
    """Records what goes through the staging table."""
    seen: list[staging.Staged] = []
    original = refdata.apply_staged

    def spy(*args: Any, **kwargs: Any) -> None:
        seen.append(args[5])
        original(*args, **kwargs)

    monkeypatch.setattr(refdata, "apply_staged", spy)
    return seen


def test_postgres_writes_through_a_staging_table_group_by_group(
    pg_stack: Stack, monkeypatch: pytest.MonkeyPatch, staged: list[staging.Staged]
) -> None:
    monkeypatch.setattr(refdata, "GROUP_ROWS", 40)  # the staging table is reused per group
    ids = list(range(1000))
    expected = seed(pg_stack, ids, ids[::10], ids[5::50], [5000, 5001])
    pg_stack.execute("staging", *counter_trigger("postgres", "item"))

    result = sync(pg_stack, chunk_rows=16)

    assert (result["inserted"], result["updated"], result["deleted"]) == expected
    assert table(pg_stack, "staging") == table(pg_stack, "dev")
    assert len(staged) > 2
    assert sum(len(s.updates) for s in staged) == expected[1]
    assert sum(len(s.inserts) for s in staged) == expected[0]
    # Every row written once, with its triggers: no more writes than differences.
    assert pg_stack.query("staging", "SELECT n FROM writes") == [(sum(expected),)]


def test_identity_keys_are_kept_through_the_staging_table(
    pg_stack: Stack, staged: list[staging.Staged]
) -> None:
    pg_stack.everywhere(
        "CREATE TABLE ident (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v TEXT)"
    )
    pg_stack.execute("dev", "INSERT INTO ident (v) SELECT 'v' || g FROM generate_series(1, 300) g")
    pg_stack.execute(
        "staging", "INSERT INTO ident (v) SELECT 'v' || g FROM generate_series(1, 3) g"
    )
    pg_stack.execute("staging", "UPDATE ident SET v = 'changed' WHERE id = 2")
    pg_stack.set_tables([{"name": "ident"}])

    [result] = pg_stack.invoke(action="sync_reference_data", source="dev", target="staging")[
        "tables"
    ]

    assert (result["inserted"], result["updated"], result["deleted"]) == (297, 1, 0)
    rows = "SELECT id, v FROM ident ORDER BY id"
    assert pg_stack.query("staging", rows) == pg_stack.query("dev", rows)
    assert staged


def test_without_temporary_tables_postgres_writes_statement_by_statement(
    pg_stack: Stack, staged: list[staging.Staged]
) -> None:
    expected = seed(pg_stack, list(range(500)), [1, 250], [499, 17], [600])
    db = pg_stack.dbs["staging"]["dbname"]
    pg_stack.execute("staging", f'REVOKE TEMPORARY ON DATABASE "{db}" FROM PUBLIC, CURRENT_USER')
    with pytest.raises(Exception, match="permission denied"):
        pg_stack.execute("staging", "CREATE TEMPORARY TABLE probe (n INT)")

    result = sync(pg_stack, chunk_rows=64)

    assert (result["inserted"], result["updated"], result["deleted"]) == expected
    assert table(pg_stack, "staging") == table(pg_stack, "dev")
    assert staged == []


def test_flat_slices_sized_on_a_stale_estimate_are_refined(
    pg_stack: Stack, monkeypatch: pytest.MonkeyPatch, calls: list[tuple[str, dict[str, Any]]]
) -> None:
    monkeypatch.setattr(PostgresDialect, "estimate_rows", lambda self, cur, table: 10)
    expected = seed(pg_stack, list(range(3000)), [5, 1500], [2999], [3001])

    result = sync(pg_stack, slice_fanout=4, slice_leaf_rows=16)

    assert (result["inserted"], result["updated"], result["deleted"]) == expected
    assert table(pg_stack, "staging") == table(pg_stack, "dev")
    widths = [kw["width"] for name, kw in calls if name == "bucket_checksums"]
    assert widths[0] > widths[-1]  # ~1,000-row slices at first, then finer ones
