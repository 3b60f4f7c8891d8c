"""Every tag in every output, both backends, within AWS's tag rules (replgen/plan/tags.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from outputs import ROOT, SPECS

from replgen import compiler
from replgen.backends import Options
from replgen.plan import tags

OTHER_SPECS = sorted(set((ROOT / "tests/specs/valid").glob("*.yaml")) - set(SPECS))


def _cfn_tag_sets(template: dict[str, Any]) -> Iterator[dict[str, str]]:
    for resource in template.get("Resources", {}).values():
        for key, value in resource.get("Properties", {}).items():
            if key.endswith("Tags") and isinstance(value, list):
                yield {t["Key"]: t["Value"] for t in value}
            elif key.endswith("Tags"):
                yield value


def _tf_tag_sets(stack: dict[str, Any]) -> Iterator[dict[str, str]]:
    defaults = [d["tags"] for p in stack["provider"]["aws"] for d in p.get("default_tags", [])]
    yield from defaults
    for resources in stack.get("resource", {}).values():
        for resource in resources.values():
            if "tags" in resource:
                yield {**defaults[0], **resource["tags"]}


def _valid(tag_sets: Iterator[dict[str, str]]) -> int:
    count = 0
    for pairs in tag_sets:
        assert len(pairs) <= tags.MAX_PER_RESOURCE, pairs
        for key, value in pairs.items():
            assert tags.pair_problem(key, value) is None, (key, value)
        count += 1
    return count


def test_every_tag_of_every_compiled_spec_is_one_aws_accepts(both: dict[str, Path]) -> None:
    for stem, root in both.items():
        cfn = [json.loads(p.read_text()) for p in (root / "cloudformation").glob("*.json")]
        tf = [json.loads(p.read_text()) for p in (root / "cdktf").glob("stacks/*/cdk.tf.json")]
        assert _valid(s for t in cfn for s in _cfn_tag_sets(t)) > 20, stem
        assert _valid(s for t in tf for s in _tf_tag_sets(t)) > 20, stem


@pytest.mark.parametrize("spec", OTHER_SPECS, ids=lambda p: p.stem)
def test_the_other_test_specs_tag_within_the_rules(spec: Path) -> None:
    # CloudFormation only: the session synthesises CDKTF for the specs above alone.
    plan = compiler.plan_for(compiler.load_spec(spec))
    files = compiler.render(plan, compiler.backends("cloudformation")["cloudformation"], Options())
    templates = [json.loads(c) for p, c in files.items() if p != "manifest.json"]
    assert _valid(s for t in templates for s in _cfn_tag_sets(t)) > 20


def test_the_dr_buckets_say_their_purpose_in_tag_characters(both: dict[str, Path]) -> None:
    foundation = both["dr"] / "cloudformation" / "prod-us-east-1-foundation.json"
    sets = _cfn_tag_sets(json.loads(foundation.read_text()))
    purposes = {pairs["Purpose"] for pairs in sets if "Purpose" in pairs}
    assert "documents for disaster recovery" in purposes
