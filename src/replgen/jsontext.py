"""Generated JSON as reviewers read it: `json.dumps(value, indent=2, sort_keys=True)`, faster.

With `indent`, the standard library gives up its C encoder for a chain of Python generators
that every piece of text climbs through, one level per nesting depth: about a third of the
CloudFormation backend's time on a template. This writes the same bytes in one recursive
pass, with the C string escaper; a test holds the two equal on every compiled output.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii
from typing import Any

_CONSTANTS = {True: "true", False: "false", None: "null"}


def dumps(value: Any) -> str:
    """`json.dumps(value, indent=2, sort_keys=True)` for str-keyed JSON data."""
    out: list[str] = []
    _write(value, "\n", out)
    return "".join(out)


def _write(value: Any, newline: str, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(encode_basestring_ascii(value))
    elif value is None or isinstance(value, bool):
        out.append(_CONSTANTS[value])
    elif isinstance(value, dict):
        _object(value, newline, out)
    elif isinstance(value, list | tuple):
        _array(value, newline, out)
    else:  # numbers, and anything the standard encoder has its own say on
        out.append(json.dumps(value))


def _object(value: dict[str, Any], newline: str, out: list[str]) -> None:
    if not value:
        out.append("{}")
        return
    inner = newline + "  "
    out.append("{")
    separator = inner
    for key in sorted(value):
        if not isinstance(key, str):
            raise TypeError(f"keys must be str, not {type(key).__name__}")
        out.append(separator)
        out.append(encode_basestring_ascii(key))
        out.append(": ")
        _write(value[key], inner, out)
        separator = "," + inner
    out.append(newline)
    out.append("}")


def _array(value: list[Any] | tuple[Any, ...], newline: str, out: list[str]) -> None:
    if not value:
        out.append("[]")
        return
    inner = newline + "  "
    out.append("[")
    separator = inner
    for item in value:
        out.append(separator)
        _write(item, inner, out)
        separator = "," + inner
    out.append(newline)
    out.append("]")
