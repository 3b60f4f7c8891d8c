"""Property tests of the reference-data sync on real servers (both engines): random tables
and random drifts end with target == source; a fault injected mid-run writes nothing. Each
case also draws the search (first level at leaf size or refined level by level) and, on
PostgreSQL, the writes (through a staging table or statement by statement)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from replsync import refdata
from replsync.dialect import MySQLDialect, PostgresDialect
from replsync.errors import SyncFailed
from replsync_helpers import insert_rows
from replsync_stack import Stack

COLUMNS = ("k", "s", "n", "note")
# A single integer key takes the key-slice search, a text key the boundary walk.
DDL = {
    "int": "CREATE TABLE prop (k BIGINT NOT NULL PRIMARY KEY, s VARCHAR(20) NULL, "
    "n DECIMAL(9,2) NULL, note TEXT NULL)",
    "text": "CREATE TABLE prop (k VARCHAR(24) NOT NULL PRIMARY KEY, s VARCHAR(20) NULL, "
    "n DECIMAL(9,2) NULL, note TEXT NULL)",
}
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=8)
VALUES = st.tuples(
    st.none() | TEXT,
    st.none() | st.decimals(-9999, 9999, places=2, allow_nan=False, allow_infinity=False),
    st.none() | st.sampled_from(["", "note", "näme 東京", "it's \\ fine"]),
)


@st.composite
def tables(draw: st.DrawFn) -> dict[str, Any]:
    """A source table and a target drifted from it at random (changed, missing, extra)."""
    kind = draw(st.sampled_from(["int", "text"]))
    keys = draw(st.sets(st.integers(-(10**6), 10**6), max_size=120))
    source = {k: draw(VALUES) for k in sorted(keys)}
    target = {}
    for k, row in source.items():
        fate = draw(st.sampled_from(["same", "same", "same", "changed", "missing"]))
        if fate == "same":
            target[k] = row
        elif fate == "changed":
            target[k] = draw(VALUES)
    for k in draw(st.sets(st.integers(-(10**6), 10**6), max_size=20)):
        target.setdefault(k, draw(VALUES))
    settings = {
        "chunk_rows": draw(st.integers(1, 64)),
        "slice_fanout": draw(st.sampled_from([2, 4, 64])),
        "slice_leaf_rows": draw(st.integers(1, 16)),
        "fanout": draw(st.integers(2, 5)),
        "leaf_rows": draw(st.integers(1, 16)),
        "fetch_rows": draw(st.integers(1, 50)),
        "write_batch": draw(st.integers(1, 20)),
    }
    paths = {"flat": draw(st.booleans()), "stage": draw(st.booleans())}
    return {"kind": kind, "source": source, "target": target, "settings": settings, **paths}


@contextmanager
def paths(monkeypatch: pytest.MonkeyPatch, case: dict[str, Any]) -> Iterator[None]:
    """The search and write paths the case drew."""
    with monkeypatch.context() as patch:
        for dialect in (MySQLDialect, PostgresDialect):
            patch.setattr(dialect, "flat_slices", case["flat"])
        if not case["stage"]:
            patch.setattr(refdata, "can_stage", lambda dialect, conn: False)
        yield


def key_of(kind: str, k: int) -> Any:
    return k if kind == "int" else f"key{k:+08d}"


def load(stack: Stack, case: dict[str, Any]) -> None:
    stack.everywhere("DROP TABLE IF EXISTS prop", DDL[case["kind"]])
    for env, rows in (("dev", case["source"]), ("staging", case["target"])):
        data = [(key_of(case["kind"], k), *row) for k, row in rows.items()]
        insert_rows(stack, env, "prop", COLUMNS, data)
    stack.set_tables([{"name": "prop"}])
    stack.set_config(sync=case["settings"])


def contents(stack: Stack, env: str) -> list[tuple[Any, ...]]:
    rows = stack.query(env, "SELECT k, s, n, note FROM prop")
    return sorted(rows, key=lambda r: str(r[0]))


def normal(rows: dict[int, Any], kind: str) -> list[tuple[Any, ...]]:
    out = [
        (key_of(kind, k), s, None if n is None else Decimal(n).quantize(Decimal("0.01")), note)
        for k, (s, n, note) in rows.items()
    ]
    return sorted(out, key=lambda r: str(r[0]))


PROPERTY = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTY
@given(case=tables())
def test_random_drift_ends_with_target_equal_to_source(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, case: dict[str, Any]
) -> None:
    load(stack, case)
    source = contents(stack, "dev")
    assert source == normal(case["source"], case["kind"])

    with paths(monkeypatch, case):
        invoked = stack.invoke(action="sync_reference_data", source="dev", target="staging")
    [result] = invoked["tables"]

    assert contents(stack, "staging") == source
    differing = {k for k in case["source"].keys() | case["target"].keys()}
    differing -= {k for k, row in case["source"].items() if case["target"].get(k) == row}
    written = result["inserted"] + result["updated"] + result["deleted"]
    assert written == len(differing)
    assert result["unchanged"] == len(case["source"]) - result["inserted"] - result["updated"]


@PROPERTY
@given(case=tables(), fail_after=st.integers(0, 3))
def test_a_fault_mid_run_writes_nothing(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, case: dict[str, Any], fail_after: int
) -> None:
    load(stack, case)
    before = contents(stack, "staging")
    original = refdata.apply_changes
    applied: list[int] = []

    def flaky(*args: Any, **kwargs: Any) -> None:
        if len(applied) == fail_after:
            raise RuntimeError("injected fault")
        applied.append(1)
        original(*args, **kwargs)

    with paths(monkeypatch, case), monkeypatch.context() as patch:
        patch.setattr(refdata, "GROUP_ROWS", 8)  # several groups, so the fault can come late
        patch.setattr(refdata, "apply_changes", flaky)
        try:
            stack.invoke(action="sync_reference_data", source="dev", target="staging")
        except SyncFailed as exc:
            assert "injected fault" in str(exc)
        else:
            assert len(applied) <= fail_after  # fewer groups to write than the fault needs
            return

    assert contents(stack, "staging") == before
