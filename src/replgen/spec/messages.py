"""Pydantic's validation errors in the project's words: what is wrong and what is valid.

Pydantic says `Input should be 'aurora-mysql' or 'aurora-postgresql'`; a user reads
`unknown engine 'aurora-mysq' (did you mean 'aurora-mysql'?)`, quoted as it was typed.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from replgen.errors import KeyPath
from replgen.spec import models
from replgen.spec.source import Source
from replgen.spec.suggest import did_you_mean

# What a pattern means, in words a user can act on.
PATTERN_WORDS = {
    models.NAME: "lowercase letters, digits and hyphens, starting with a letter",
    models.IDENTIFIER: "an SQL identifier (letters, digits, _ and $, not starting with a digit)",
    models.EMAIL: "an email address such as dba-oncall@example.com (name@host.domain, "
    "no spaces or $ % { } ( ))",
    models.ACCOUNT_ID: "a 12-digit AWS account id",
    models.ENV_NAME: "an environment name (lowercase letters and digits, starting with a "
    "letter, at most 16)",
    models.SITE_REF: "a site: an environment, or environment/region",
    models.ARN: "a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)",
    models.INSTANCE_CLASS: "an instance class such as db.r6g.large",
    models.DATABASE_NAME: "a database name (letters, digits and _, starting with a letter, "
    "at most 63)",
    models.USERNAME: "a user name (letters, digits and _, starting with a letter, at most 16)",
    models.DNS_ZONE: "a domain name such as txn.example.com (lowercase)",
    models.DNS_LABEL: "a record name (lowercase letters, digits and hyphens)",
    models.URL_PATH: "a path starting with / (letters, digits, /, _ and -)",
    models.SHORT_NAME: "a short name (lowercase letters, digits and hyphens, starting with a "
    "letter, at most 32)",
    models.BUCKET_NAME: "an S3 bucket name (lowercase letters, digits, dots and hyphens, 3 to 63)",
    models.ROLE_NAME: "an IAM role name (letters, digits and +=,.@_-, at most 64)",
    models.ROLE_ARN: "an IAM role ARN (arn:aws:iam::<account>:role/<name>)",
    models.SUFFIX: "lowercase letters, digits and hyphens, not starting or ending with a hyphen",
    models.HTTPS_URL: "an https:// URL",
    models.S3_OBJECT: "an S3 object such as s3://bucket/path/ca.pem",
    models.SECRET_ARN: "a Secrets Manager secret ARN (arn:aws:secretsmanager:...:secret:...)",
}


def data_path(error: ErrorDetails) -> KeyPath:
    """The key path in the user's document (pydantic adds union branches and `[key]`)."""
    return tuple(p for p in error["loc"] if not _is_tag(p))


_TAG = re.compile(r"^(\[key\]|[a-z][a-z_-]*\[.*\])$")  # `[key]`, `function-after[...]`


def _is_tag(part: str | int) -> bool:
    # Only pydantic's own names: a user's key may hold a bracket too (`r[eplgen`).
    return isinstance(part, str) and (bool(_TAG.match(part)) or part in {"str", "int", "float"})


def sentence(error: ErrorDetails, source: Source) -> str:
    """One error as the project says it."""
    path = data_path(error)
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    written = _written(error, path, source)
    special = _SPECIAL.get(kind)
    if special is not None:
        return special(error, path, ctx, written)
    template = _TEMPLATES.get(kind)
    if template is not None:
        return template.format(got=written, **ctx)
    message = str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind not in {"value_error", "assertion_error"}:
        message += f" (got {written})"
    return message


def _written(error: ErrorDetails, path: KeyPath, source: Source) -> str:
    """The offending value as the file spells it (a YAML number loses its leading zeros)."""
    value = error.get("input")
    if "[key]" in error["loc"]:  # a mapping key was refused: say the key, not its value
        return repr(value)
    text = source.text(path)
    if text is not None and not isinstance(value, dict | list):
        return repr(text) if isinstance(value, str) else text
    return _kind(value) if isinstance(value, dict | list) else repr(value)[:60]


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return repr(value)[:60]


_TEMPLATES = {
    "greater_than_equal": "must be at least {ge} (got {got})",
    "greater_than": "must be more than {gt} (got {got})",
    "less_than_equal": "must be at most {le} (got {got})",
    "less_than": "must be less than {lt} (got {got})",
    "multiple_of": "must be a multiple of {multiple_of} (got {got})",
    "int_type": "must be a whole number (got {got})",
    "int_parsing": "must be a whole number (got {got})",
    "int_from_float": "must be a whole number (got {got})",
    "float_type": "must be a number (got {got})",
    "float_parsing": "must be a number (got {got})",
    "finite_number": "must be a finite number (got {got})",
    "bool_type": "must be true or false (got {got})",
    "bool_parsing": "must be true or false (got {got})",
    "string_too_long": "must be at most {max_length} characters (got {got})",
    "string_too_short": "must be at least {min_length} characters (got {got})",
    "dict_type": "must be a mapping of keys to values (got {got})",
    "model_type": "must be a mapping of keys to values (got {got})",
    "model_attributes_type": "must be a mapping of keys to values (got {got})",
    "list_type": "must be a list (got {got})",
    "tuple_type": "must be a list (got {got})",
}

Special = Callable[[ErrorDetails, KeyPath, dict[str, Any], str], str]


def _missing(error: ErrorDetails, path: KeyPath, ctx: dict[str, Any], got: str) -> str:
    if path[:1] == ("peering",):
        return "a peering is a pair of sites, e.g. [dev, staging]"
    return f"missing required key {path[-1]!r}" if path else "the document is empty"


def _extra(error: ErrorDetails, path: KeyPath, ctx: dict[str, Any], got: str) -> str:
    key = str(path[-1])
    return f"unknown key {key!r}{did_you_mean(key, keys_at(path[:-1]), 1)}"


def _literal(error: ErrorDetails, path: KeyPath, ctx: dict[str, Any], got: str) -> str:
    allowed = re.findall(r"'([^']*)'|(\d+)", str(ctx.get("expected", "")))
    options = [a or b for a, b in allowed]
    if path == ("replgen",):
        return f"unsupported spec format {got}: this replgen reads format 1 (replgen: 1)"
    what = str(path[-1]).replace("_", " ") if path else "value"
    hint = did_you_mean(str(error.get("input")), options, 1)
    return f"unknown {what} {got}{hint} (valid: {', '.join(options)})"


def _pattern(error: ErrorDetails, path: KeyPath, ctx: dict[str, Any], got: str) -> str:
    pattern = str(ctx.get("pattern", ""))
    words = PATTERN_WORDS.get(pattern, f"text matching {pattern}")
    return f"{got} is not {words}"


def _too_short(error: ErrorDetails, path: KeyPath, ctx: dict[str, Any], got: str) -> str:
    if path[:1] == ("peering",):
        return "a peering is a pair of sites, e.g. [dev, staging]"
    count = ctx.get("min_length", 1)
    return f"needs at least {count} {'entry' if count == 1 else 'entries'}"


def _too_long(error: ErrorDetails, path: KeyPath, ctx: dict[str, Any], got: str) -> str:
    if path[:1] == ("peering",):
        return "a peering is a pair of sites, e.g. [dev, staging]"
    return f"has more than {ctx.get('max_length')} entries"


def _unquoted(error: ErrorDetails, path: KeyPath, ctx: dict[str, Any], got: str) -> str:
    value = error.get("input")
    how = f"the number {value}" if got != str(value) else "a number"
    return f'write the {ctx["what"]} in quotes, "{got}" (unquoted, YAML reads it as {how})'


def _string(error: ErrorDetails, path: KeyPath, ctx: dict[str, Any], got: str) -> str:
    value = error.get("input")
    if isinstance(value, dict | list) or value is None:
        return f"must be text (got {_kind(value)})"
    return f'must be text: write it in quotes, "{got}"'


_SPECIAL: dict[str, Special] = {
    "missing": _missing,
    "extra_forbidden": _extra,
    "literal_error": _literal,
    "string_pattern_mismatch": _pattern,
    "too_short": _too_short,
    "too_long": _too_long,
    "unquoted_number": _unquoted,
    "string_type": _string,
}


def keys_at(path: KeyPath) -> list[str]:
    """The keys valid in the mapping at `path` (every model's keys if it cannot tell)."""
    model = _model_at(models.Spec, path)
    if model is None:
        return sorted(_all_keys())
    return [info.alias or name for name, info in model.model_fields.items()]


def is_section(path: KeyPath) -> bool:
    """True where the spec holds a mapping of its own settings (`sync`, `backup`, ...)."""
    return _model_at(models.Spec, path) is not None


def _model_at(annotation: Any, path: KeyPath) -> type[BaseModel] | None:
    for part in path:
        annotation = _step(_unwrap(annotation), part)
        if annotation is None:
            return None
    found = _unwrap(annotation)
    return found if isinstance(found, type) and issubclass(found, BaseModel) else None


def _step(annotation: Any, part: str | int) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, info in annotation.model_fields.items():
            if part in (name, info.alias):
                return info.annotation
        return None
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is dict and isinstance(part, str):
        return args[1]
    if origin is tuple and isinstance(part, int) and args:
        return args[0] if args[-1] is Ellipsis else args[min(part, len(args) - 1)]
    return None


def _unwrap(annotation: Any) -> Any:
    """`Annotated[X, ...]` and `X | None` to X."""
    while True:
        origin = get_origin(annotation)
        if origin is typing.Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            options = [a for a in get_args(annotation) if a is not type(None)]
            if len(options) != 1:
                return annotation
            annotation = options[0]
        else:
            return annotation


def _all_keys() -> set[str]:
    keys: set[str] = set()
    for obj in vars(models).values():
        if isinstance(obj, type) and issubclass(obj, BaseModel):
            keys.update(info.alias or name for name, info in obj.model_fields.items())
    return keys
