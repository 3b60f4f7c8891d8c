"""The JSON Schema of the spec format, generated from the models (editors validate with it)."""

from __future__ import annotations

import json

from replgen.spec.models import Spec


def json_schema() -> str:
    schema = Spec.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
