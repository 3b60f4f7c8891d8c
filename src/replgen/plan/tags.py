"""AWS's tag rules, in one place: every tag either backend emits is composed and checked here.

The rules are the strictest service's, so a tag valid here is valid on every resource:
- characters: letters (any script), digits, white space and `+ - = . _ : / @` (S3's rule,
  the narrowest; https://docs.aws.amazon.com/AmazonS3/latest/API/API_Tag.html,
  https://docs.aws.amazon.com/tag-editor/latest/userguide/best-practices-and-strats.html);
- a key of 1 to 128 characters, a value of at most 256;
- no key or value starting with `aws:` (reserved for AWS, any case);
- at most 50 tags on a resource (S3 buckets too).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache

MAX_KEY = 128
MAX_VALUE = 256
MAX_PER_RESOURCE = 50
PUNCTUATION = "+-=._:/@"
VALID = "letters, digits, spaces and + - = . _ : / @"

Tags = tuple[tuple[str, str], ...]
_ASCII = re.compile(r"[A-Za-z0-9 +=._:/@-]*")  # the common case, without a look per character


class TagFault(Exception):
    """The plan would emit a tag AWS rejects: a bug in replgen, never the spec's fault."""


def _allowed(char: str) -> bool:
    # AWS's pattern is [\p{L}\p{Z}\p{N}_.:/=+\-@]: Unicode letters, separators and numbers.
    return char in PUNCTUATION or unicodedata.category(char)[0] in "LZN"


@cache  # every resource repeats the plan's tags
def problem(text: str, what: str, limit: int) -> str | None:
    """Why `text` cannot be a tag key or value (`what`), or None when AWS accepts it."""
    if len(text) > limit:
        return f"the {what} {text!r} is {len(text)} characters (at most {limit})"
    bad = [] if _ASCII.fullmatch(text) else sorted({c for c in text if not _allowed(c)})
    if bad:
        shown = " ".join(repr(c) for c in bad)
        return f"the {what} {text!r} has {shown}: a tag holds only {VALID}"
    if text.lower().startswith("aws:"):
        return f"the {what} {text!r} starts with 'aws:', which AWS reserves for itself"
    return None


def pair_problem(key: str, value: str) -> str | None:
    if not key:
        return "a tag key is empty"
    return problem(key, "tag key", MAX_KEY) or problem(value, "tag value", MAX_VALUE)


def check(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The tags as a mapping; TagFault when AWS would reject one of them or their number."""
    tags = dict(pairs)
    for key, value in tags.items():
        if why := pair_problem(key, value):
            raise TagFault(f"replgen would emit a tag AWS rejects: {why}")
    if len(tags) > MAX_PER_RESOURCE:
        raise TagFault(f"replgen would put {len(tags)} tags on one resource (at most 50)")
    return tags


def resource(base: Tags, name: str | None = None, **extra: str) -> dict[str, str]:
    """A resource's tags: `base` (the plan's), its Name, then `extra` (a bucket's Purpose)."""
    pairs = list(base)
    if name:
        pairs.append(("Name", name))
    pairs.extend(extra.items())
    return check(pairs)
