"""Plan text as Terraform literals: the one way a plan's strings enter Terraform JSON.

In Terraform JSON every string is a template: `${...}` is evaluated (a spec value
`ops${file("/etc/hostname")}@example.com` would run on the deployer's machine) and `%{...}`
is a directive. Escaping the whole plan once, before any renderer sees it, means no renderer
can forget: every string the backend reads from the plan is already `$${`/`%%{`-escaped.

The backend's own interpolations (references between resources, remote state, the
`${can(regex(...))}` of a variable's validation) are made by cdktf or written in the
backend after this, and so stay expressions. IAM policy variables in plan text
(`${aws:username}`) are escaped too: Terraform must hand them to IAM as written.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from replgen.plan.model import Plan

T = TypeVar("T")


def literal(text: str) -> str:
    """`${` -> `$${` and `%{` -> `%%{`: Terraform reads the result back as `text`."""
    return text.replace("${", "$${").replace("%{", "%%{")


def plan(original: Plan) -> Plan:
    """The plan with every string in it (names, descriptions, policies, definitions)
    made a Terraform literal."""
    return _escape(original)


def _escape(value: T) -> T:
    if isinstance(value, str):
        return literal(value)  # type: ignore[return-value]
    if isinstance(value, tuple):  # the plan's only container: it is immutable
        return tuple(_escape(v) for v in value)  # type: ignore[return-value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes: dict[str, Any] = {
            f.name: _escape(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init
        }
        return dataclasses.replace(value, **changes)
    return value  # numbers, booleans, None (a dict or list here would be a plan bug)
