"""Text from a spec is data: no text field accepts a Terraform template or directive.

The fields come from the spec models (tests/spectext.py), each filled where the example and
test specs have it, or left it unset; the backends' half of the rule (whatever text reaches
them is escaped) is tests/backends/test_output_text_is_data.py.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from spectext import ALIASES, hostile, put_data, text_fields, text_paths

from replgen.errors import SpecError
from replgen.spec.load import load, validate

ROOT = Path(__file__).parents[2]
SPECS = [
    *sorted((ROOT / "specs").glob("*.yaml")),
    *sorted((ROOT / "tests/specs/valid").glob("*.yaml")),
]
MARKERS = ('file("/etc/hostname")', "if true")


def test_the_specs_hold_every_text_field_of_the_models() -> None:
    walked = {(m, f) for spec in SPECS for m, f, _ in text_paths(load(spec).spec)}
    assert walked == text_fields()
    assert ("Notifications", "emails") in walked  # the field the finding was about


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_every_text_field_refuses_templates_at_its_key(spec: Path) -> None:
    loaded = load(spec)
    document = loaded.spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    tried = 0
    for _, _, path in text_paths(loaded.spec):
        where = tuple(ALIASES.get(p, p) if isinstance(p, str) else p for p in path)
        for marker in MARKERS:
            data = copy.deepcopy(document)
            value = hostile(loaded.spec, path, marker)
            put_data(data, path, list(value) if isinstance(value, tuple) else value)
            with pytest.raises(SpecError) as caught:
                validate(data, loaded.source)
            located = [p.path for p in caught.value.problems]
            assert any(p[: len(where)] == where for p in located), (where, value, located)
            tried += 1
    assert tried >= 40
