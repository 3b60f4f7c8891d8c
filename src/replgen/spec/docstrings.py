"""The docstring under each field of the spec models: its description in the JSON Schema.

Pydantic can read them itself (`use_attribute_docstrings`), but only by parsing the source
of every model as the class is built: about 30 ms on every validate and compile, for text
only `replgen schema` shows. This reads them the same way (an annotated field, then a string
statement; `inspect.cleandoc`), once, when the schema is made.
"""

from __future__ import annotations

import ast
import inspect
from types import ModuleType


def field_docstrings(module: ModuleType) -> dict[str, dict[str, str]]:
    """Class name -> field name -> the docstring written under the field."""
    tree = ast.parse(inspect.getsource(module))
    return {node.name: _fields(node) for node in tree.body if isinstance(node, ast.ClassDef)}


def _fields(cls: ast.ClassDef) -> dict[str, str]:
    found: dict[str, str] = {}
    for first, second in zip(cls.body, cls.body[1:], strict=False):
        if (
            isinstance(first, ast.AnnAssign)
            and isinstance(first.target, ast.Name)
            and isinstance(second, ast.Expr)
            and isinstance(second.value, ast.Constant)
            and isinstance(second.value.value, str)
        ):
            found[first.target.id] = inspect.cleandoc(second.value.value)
    return found
