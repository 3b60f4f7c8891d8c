"""replgen's JSON writer gives exactly `json.dumps(value, indent=2, sort_keys=True)`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from replgen import jsontext

ROOT = Path(__file__).parents[1]
COMMITTED = sorted((ROOT / "templates_out").rglob("*.json"))

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


def _stdlib(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True)


def test_every_committed_output_is_written_the_same() -> None:
    assert len(COMMITTED) > 20
    for path in COMMITTED:
        document = json.loads(path.read_text())
        assert jsontext.dumps(document) == _stdlib(document), path


@given(JSON)
def test_any_json_value_is_written_the_same(value: Any) -> None:
    assert jsontext.dumps(value) == _stdlib(value)


def test_edge_values() -> None:
    value = {"é": ["\u2028", float("nan"), float("-inf"), 1e300, -0.0, (1, 2)], "": {}, "a": []}
    assert jsontext.dumps(value) == _stdlib(value)
    with pytest.raises(TypeError, match="keys must be str"):
        jsontext.dumps({1: "a"})
