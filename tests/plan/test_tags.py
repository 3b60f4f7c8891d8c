"""AWS's tag rules, checked in the plan: spec values are spec errors, the plan's own are faults."""

from __future__ import annotations

from pathlib import Path

import pytest

from replgen.errors import SpecError
from replgen.plan import tags
from replgen.plan.build import build
from replgen.plan.model import Code
from replgen.plan.names import Namer
from replgen.spec.load import load

ROOT = Path(__file__).parents[2]
CODE = {"replsync": Code("replsync", "replsync-0123456789ab.zip", "0" * 64, "AAAA")}


@pytest.mark.parametrize(
    "value",
    ["documents for disaster recovery", "a+b-c=d.e_f:g/h@i", "Zürich 東京 ٣", "", "x" * 256],
)
def test_values_aws_accepts(value: str) -> None:
    assert tags.pair_problem("Purpose", value) is None
    assert tags.resource((("replgen:topology", "t"),), "n", Purpose=value)["Purpose"] == value


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("Purpose", "documents (disaster recovery storage)", "'(' ')': a tag holds only letters"),
        ("Purpose", "ops${file(x)}", "'$' '(' ')' '{' '}'"),
        ("Purpose", "a,b", "','"),
        ("Purpose", "x" * 257, "257 characters (at most 256)"),
        ("k" * 129, "v", "129 characters (at most 128)"),
        ("AWS:owner", "v", "starts with 'aws:'"),
        ("Owner", "aws:me", "starts with 'aws:'"),
        ("", "v", "a tag key is empty"),
    ],
)
def test_tags_aws_rejects_are_faults(key: str, value: str, words: str) -> None:
    assert words in str(tags.pair_problem(key, value))
    with pytest.raises(tags.TagFault, match="would emit a tag AWS rejects"):
        tags.resource((), None, **{key: value})


def test_at_most_fifty_tags_on_a_resource() -> None:
    fifty = tuple((f"k{i}", "v") for i in range(49))
    assert len(tags.resource(fifty, "name")) == 50
    with pytest.raises(tags.TagFault, match="51 tags on one resource"):
        tags.resource(fifty, "name", Extra="v")


def test_a_tag_from_the_spec_is_a_spec_error_at_its_key() -> None:
    # The schema's patterns keep such names out of a loaded spec; the plan checks anyway,
    # since these two values tag every resource.
    spec = load(ROOT / "specs" / "prod.yaml").spec
    broken = spec.model_copy(update={"name": "db(x)", "suffix": "aws:x"})
    with pytest.raises(SpecError) as caught:
        build(broken, CODE)
    assert [(p.path, p.message) for p in caught.value.problems] == [
        (
            ("name",),
            "the tag value 'db(x)' has '(' ')': a tag holds only letters, digits, "
            "spaces and + - = . _ : / @ (it tags every resource)",
        ),
        (
            ("suffix",),
            "the tag value 'aws:x' starts with 'aws:', which AWS reserves for "
            "itself (it tags every resource)",
        ),
    ]


def test_a_name_the_plan_makes_that_cannot_be_a_name_tag_is_a_fault() -> None:
    # Security group names allow parentheses; the Name tag they become does not.
    with pytest.raises(tags.TagFault, match="'app-x-a\\(b\\)' has '\\(' '\\)'"):
        Namer("app", "x", []).make("sg", "a(b)")
