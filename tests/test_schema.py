"""The committed JSON Schema is what the models generate, and the example specs satisfy it."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from replgen.errors import SpecError
from replgen.spec import reference
from replgen.spec.schema import json_schema
from replgen.spec.source import parse

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


def _document(spec: Path) -> object:
    """The spec's data as an editor would see it; None where it is not a YAML document."""
    try:
        data, _ = parse(spec.read_text(), str(spec))
    except SpecError:
        return None
    return data


def _schema_errors(spec: Path) -> list[str] | None:
    document = _document(spec)
    if document is None:
        return None
    validator = jsonschema.Draft202012Validator(json.loads(json_schema()))
    return [e.message for e in validator.iter_errors(document)]


# Invalid specs an editor already flags from the schema alone; the others need replgen's own
# rules (references, overlaps, the RDS catalog per engine, service name limits) or are not
# YAML documents at all. A spec moving between the groups is a change worth a look.
CAUGHT_BY_SCHEMA = {
    "account-octal",
    "account-removed-references",
    "account-short",
    "account-unquoted",
    "backup-schedule-rate",
    "backup-too-long",
    "backup-zero",
    "bad-email",
    "bad-engine",
    "bad-name",
    "bad-schedule",
    "bad-version",
    "cidr-garbage",
    "cidr-too-big",
    "column-bad-identifier",
    "email-host-without-dot",
    "email-parentheses",
    "email-template-directive",
    "email-terraform-template",
    "engine-typo",
    "env-region-typo",
    "environment-name-uppercase",
    "instances-zero",
    "key-with-bracket",
    "long-suffix",
    "migrations-writer-not-a-role",
    "missing-environments",
    "not-a-mapping-env",
    "peering-not-a-pair",
    "region-typo",
    "regions-key-typo",
    "schedule-cron-five-fields",
    "schedule-rate-plural-for-one",
    "schedule-rate-singular-for-many",
    "schedule-rate-unknown-unit",
    "schedule-rate-zero",
    "several-mistakes",
    "several-mistakes-dr",
    "several-mistakes-references",
    "several-region-mistakes",
    "several-structural-and-rules",
    "table-bad-identifier",
    "text-for-number",
    "timeout-too-long",
    "unknown-database-key",
    "unknown-env-key",
    "unknown-region",
    "unknown-top-key",
    "version-typo",
    "version-unquoted",
    "version-unquoted-float",
    "wrong-version",
}


def test_valid_specs_pass_the_schema() -> None:
    specs = [*(ROOT / "specs").glob("*.yaml"), *(ROOT / "tests" / "specs" / "valid").glob("*.yaml")]
    for spec in sorted(specs):
        assert _schema_errors(spec) == [], spec


def test_schema_catches_what_it_can_of_the_invalid_specs() -> None:
    caught = set()
    for spec in sorted((ROOT / "tests" / "specs" / "invalid").glob("*.yaml")):
        errors = _schema_errors(spec)
        if errors:
            caught.add(spec.stem)
    assert caught == CAUGHT_BY_SCHEMA


def test_every_field_is_described_for_editors() -> None:
    schema = json.loads(json_schema())
    models = [("Spec", schema), *schema["$defs"].items()]
    for name, model in models:
        assert model.get("description"), name
        for key, field in model.get("properties", {}).items():
            assert field.get("description"), f"{name}.{key}"
            assert field["markdownDescription"] == field["description"]


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("accounts", "dev"), "11111111111"),
        (("region",), "us-east-7"),
        (("environments", "dev", "cidr"), "10.1.0.0/8"),
        (("environments", "dev", "cidr"), "10.1.0.300/16"),
        (("defaults", "database", "engine"), "aurora-oracle"),
        (("defaults", "database", "engine_version"), "5.7.9"),
        (("notifications", "emails"), ["oncall"]),
        (("name",), "DB_Repl"),
        (("sync", "schedule"), "cron(0 * * * *)"),
    ],
)
def test_schema_refuses_what_an_editor_should_flag(path: tuple[str, ...], value: object) -> None:
    document = yaml.safe_load((ROOT / "specs" / "prod.yaml").read_text())
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    validator = jsonschema.Draft202012Validator(json.loads(json_schema()))
    assert list(validator.iter_errors(document)), f"{'.'.join(path)} = {value!r} passed"


def test_committed_spec_reference_is_fresh() -> None:
    committed = (ROOT / "docs" / "spec-reference.md").read_text()
    assert committed == reference.markdown(), "run `make schema` and commit docs/"
    assert '| `schedule` | string | `"rate(1 hour)"` | EventBridge schedule:' in committed
