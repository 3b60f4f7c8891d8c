"""EventBridge schedule expressions: `rate(...)` and `cron(...)`, checked as the service does.

EventBridge refuses at deploy time what a loose pattern lets through (`rate(1 hours)`,
five cron fields, `*` in both day fields); this grammar refuses it at validation, with
the reason. How far apart two runs can be is `cadence.period_seconds`'s to say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"rate\((?P<body>.*)\)", re.DOTALL)
_CRON = re.compile(r"cron\((?P<body>.*)\)", re.DOTALL)
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
WHAT = "rate(N minute[s]|hour[s]|day[s]) or cron(minutes hours day-of-month month day-of-week year)"


class ScheduleError(ValueError):
    """An expression EventBridge would refuse; the message says why and what is valid."""


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # JAN..DEC or SUN..SAT, numbered from `low`


_FIELDS = (
    _Field("minutes", 0, 59),
    _Field("hours", 0, 23),
    _Field("day-of-month", 1, 31),
    _Field("month", 1, 12, _MONTHS),
    _Field("day-of-week", 1, 7, _DAYS),
    _Field("year", 1970, 2199),
)


def check(expression: str) -> str:
    """The expression unchanged, or ScheduleError naming what EventBridge would refuse."""
    if _RATE.fullmatch(expression):
        _rate(expression)
    elif _CRON.fullmatch(expression):
        _cron(expression)
    else:
        raise ScheduleError(f"{expression!r} is not an EventBridge schedule: {WHAT}")
    return expression


def check_cron(expression: str) -> str:
    """A valid `cron(...)` (AWS Backup plans take no `rate(...)`)."""
    if not _CRON.fullmatch(expression):
        raise ScheduleError(
            f"{expression!r} is not a cron expression: cron(minutes hours "
            "day-of-month month day-of-week year)"
        )
    return check(expression)


def _rate(expression: str) -> int:
    """Seconds between two runs of a valid `rate(...)`."""
    body = _RATE.fullmatch(expression)["body"]  # type: ignore[index]
    match = re.fullmatch(r"(\d+) ([a-z]+)", body)
    if not match:
        raise ScheduleError(f"{expression!r}: write rate(<number> <unit>), e.g. rate(1 hour)")
    value, unit = int(match[1]), match[2]
    if value < 1 or match[1].startswith("0"):
        raise ScheduleError(f"{expression!r}: the rate must be a whole number from 1")
    singular = unit.removesuffix("s")
    if singular not in _UNIT_SECONDS:
        raise ScheduleError(f"{expression!r}: unknown unit {unit!r} (minute, hour or day)")
    wanted = singular if value == 1 else f"{singular}s"
    if unit != wanted:
        raise ScheduleError(
            f"{expression!r}: write rate({value} {wanted}) (the unit is singular for 1, plural "
            "otherwise)"
        )
    return value * _UNIT_SECONDS[singular]


def _cron(expression: str) -> list[str]:
    body = _CRON.fullmatch(expression)["body"]  # type: ignore[index]
    fields = body.split()
    if len(fields) != len(_FIELDS) or body != " ".join(fields):
        raise ScheduleError(
            f"{expression!r}: cron needs 6 fields separated by single spaces "
            f"(minutes hours day-of-month month day-of-week year), got {len(fields)}"
        )
    dom, dow = fields[2], fields[4]
    if (dom == "?") == (dow == "?"):
        raise ScheduleError(
            f"{expression!r}: exactly one of day-of-month ({dom}) and day-of-week ({dow}) "
            "must be '?', e.g. cron(0 3 * * ? *)"
        )
    for text, spec in zip(fields, _FIELDS, strict=True):
        _cron_field(expression, text, spec)
    return fields


def _cron_field(expression: str, text: str, spec: _Field) -> None:
    if text == "?" and spec.name in {"day-of-month", "day-of-week"}:
        return
    for item in text.split(","):
        problem = _item_problem(item, spec)
        if problem:
            raise ScheduleError(f"{expression!r}: {spec.name} {item!r} {problem}")


def _item_problem(item: str, spec: _Field) -> str | None:
    """Why one comma-separated item of a cron field is refused, or None."""
    if spec.name == "day-of-month" and re.fullmatch(r"L|LW|\d{1,2}W", item):
        return _range_problem([item.rstrip("W") or "1"] if item[0] != "L" else [], spec)
    if spec.name == "day-of-week" and re.fullmatch(r"L|\w{1,3}L|\w{1,3}#[1-5]", item):
        return _range_problem([re.split(r"[L#]", item)[0]] if item != "L" else [], spec)
    base, _, step = item.partition("/")
    if step and not (step.isdigit() and 1 <= int(step) <= spec.high):
        return f"has an increment that is not a number from 1 to {spec.high}"
    if base == "*":
        return None
    bounds = base.split("-")
    if len(bounds) > 2:
        return "is not a value, a range a-b, * or an increment x/y"
    problem = _range_problem(bounds, spec)
    if problem is None and len(bounds) == 2:
        low, high = (_value(b, spec) for b in bounds)
        if low is not None and high is not None and low > high:
            return f"is a range that ends before it starts ({spec.low}-{spec.high} in order)"
    return problem


def _range_problem(values: list[str], spec: _Field) -> str | None:
    for value in values:
        if _value(value, spec) is None:
            named = f" or {spec.names[0]}-{spec.names[-1]}" if spec.names else ""
            return f"is not in {spec.low}-{spec.high}{named}"
    return None


def _value(text: str, spec: _Field) -> int | None:
    if text.upper() in spec.names:
        return spec.low + spec.names.index(text.upper())
    if text.isdigit() and spec.low <= int(text) <= spec.high:
        return int(text)
    return None
