"""The committed JSON Schema is what the models generate, and the example specs satisfy it."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

from replgen.spec.schema import json_schema

ROOT = Path(__file__).parents[1]


def test_committed_schema_is_fresh() -> None:
    committed = (ROOT / "schema" / "replgen.schema.json").read_text()
    assert committed == json_schema(), "run `make schema` and commit schema/replgen.schema.json"


def test_example_specs_satisfy_schema() -> None:
    schema = json.loads(json_schema())
    specs = [*(ROOT / "specs").glob("*.yaml"), *(ROOT / "tests" / "specs" / "valid").glob("*.yaml")]
    for spec in sorted(specs):
        jsonschema.validate(yaml.safe_load(spec.read_text()), schema)


def test_schema_rejects_unknown_keys() -> None:
    schema = json.loads(json_schema())
    document = yaml.safe_load((ROOT / "specs" / "prod.yaml").read_text())
    document["notifcations"] = {}
    validator = jsonschema.Draft202012Validator(schema)
    assert any("notifcations" in e.message for e in validator.iter_errors(document))
