"""The JSON Schema of the spec format, generated from the models (editors validate with it).

Descriptions are the models' field docstrings; editors that render Markdown (VS Code's
YAML extension) read `markdownDescription`, so each description is given both ways.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from replgen.spec import models
from replgen.spec.docstrings import field_docstrings
from replgen.spec.models import Spec


def json_schema() -> str:
    schema = Spec.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    _describe(schema)
    _markdown(schema)
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def _describe(schema: dict[str, Any]) -> None:
    """Each property's description: the docstring under its field (spec/docstrings.py)."""
    docs = field_docstrings(models)
    for name, node in [("Spec", schema), *schema.get("$defs", {}).items()]:
        model = getattr(models, name)
        assert isinstance(model, type) and issubclass(model, BaseModel), name
        for field, info in model.model_fields.items():
            if field in docs.get(name, {}):
                node["properties"][info.alias or field]["description"] = docs[name][field]


def _markdown(node: Any) -> None:
    """Every `description` also as `markdownDescription`, everywhere in the schema."""
    if isinstance(node, dict):
        if isinstance(node.get("description"), str):
            node["markdownDescription"] = node["description"]
        for key, value in node.items():
            if key not in ("enum", "default", "examples"):
                _markdown(value)
    elif isinstance(node, list):
        for item in node:
            _markdown(item)
