"""A site is the sum of its parts: each part adds components, and none makes one twice."""

from __future__ import annotations

import pytest

from replgen.plan.model import LogGroup, Record, Ref
from replgen.plan.parts import Parts


def _record(name: str) -> Record:
    zone = Ref("prod/us-east-1", "zone", "id")
    check = Ref("prod/us-east-1", "healthcheck:prod-us-east-1", "id")
    return Record(zone, f"{name}.example.com", "api.example.com", name, 100, check)


def test_parts_add_up_in_order() -> None:
    key = Ref("prod/us-east-1", "key", "arn")
    a = Parts(log_groups=(LogGroup("/a", 30, key),), record=_record("a"))
    b = Parts(log_groups=(LogGroup("/b", 30, key),))
    total = a + b
    assert [g.name for g in total.log_groups] == ["/a", "/b"]
    assert total.record == _record("a")
    assert "log_groups" not in total.components()  # the key's input, not a site field


def test_two_parts_cannot_make_one_component() -> None:
    with pytest.raises(AssertionError, match="two parts of one site make its record"):
        Parts(record=_record("a")) + Parts(record=_record("b"))
