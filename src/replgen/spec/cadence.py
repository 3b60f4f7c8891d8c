"""The longest wait between two firings of an EventBridge schedule expression.

Alarms on "the target is stale" need it: a target refreshed by ``rate(1 hour)`` is up to an
hour old between runs by design, so the alarm's window is the spec's lag budget plus this.
``rate()`` is exact. ``cron()`` (minutes hours day-of-month month day-of-week year, UTC) is
enumerated day by day over a 28-year calendar cycle with its times of day, which covers every
calendar pattern EventBridge accepts (``L``, ``W``, ``#``, month and weekday lists); the year
field is read as "every year": a schedule that stops firing has no period, and no alarm window
fits it.
"""

from __future__ import annotations

import calendar
import datetime
import itertools
import re
from functools import cache

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_UNIT = {"minute": 60, "hour": 3600, "day": 86400}
_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_MONTHS = {m.upper(): i for i, m in enumerate(calendar.month_abbr) if m}
_NAMES = {"month": _MONTHS, "dow": _DAYS}
# Weekdays and leap years repeat every 28 years (1901-2099): every calendar pattern appears.
_HORIZON_DAYS = (datetime.date(2053, 1, 1) - datetime.date(2025, 1, 1)).days
_START = datetime.date(2025, 1, 1)


class ScheduleError(ValueError):
    """An expression this module cannot read (the spec's grammar check runs first)."""


@cache
def period_seconds(expression: str) -> int:
    """The longest interval between consecutive firings, in seconds."""
    match = _RATE.match(expression.strip())
    if match:
        return int(match.group(1)) * _UNIT[match.group(2).rstrip("s")]
    if expression.startswith("cron(") and expression.endswith(")"):
        return _cron_period(expression[5:-1].split())
    raise ScheduleError(f"not an EventBridge schedule: {expression}")


def _cron_period(fields: list[str]) -> int:
    if len(fields) != 6:
        raise ScheduleError("cron() takes six fields")
    minutes, hours, dom, month, dow, _year = fields
    times = sorted(h * 60 + m for h in _values(hours, 0, 23) for m in _values(minutes, 0, 59))
    every_day = {dom, month, dow} <= {"*", "?"}
    horizon = 2 if every_day else _HORIZON_DAYS  # no calendar to walk
    days = [i for i in range(horizon) if _fires_on(_day(i), dom, month, dow)]
    if not times or len(days) < 2:
        raise ScheduleError("the schedule does not repeat")
    # The longest wait is inside a day, or from the last run of one firing day to the first
    # run of the next after the longest run of silent days.
    within = max((b - a for a, b in itertools.pairwise(times)), default=0)
    across = max(b - a for a, b in itertools.pairwise(days)) * 1440 - (times[-1] - times[0])
    return max(within, across) * 60


def _day(offset: int) -> datetime.date:
    return _START + datetime.timedelta(days=offset)


def _fires_on(day: datetime.date, dom: str, month: str, dow: str) -> bool:
    if day.month not in _values(month, 1, 12, "month"):
        return False
    return _day_of_month(day, dom) and _day_of_week(day, dow)


def _day_of_month(day: datetime.date, field: str) -> bool:
    last = calendar.monthrange(day.year, day.month)[1]
    if field in ("*", "?"):
        return True
    if field == "L":
        return day.day == last
    if field == "LW":
        return day == _nearest_weekday(day.replace(day=last))
    if field.endswith("W"):
        target = day.replace(day=min(int(field[:-1]), last))
        return day == _nearest_weekday(target)
    return day.day in _values(field, 1, 31)


def _nearest_weekday(day: datetime.date) -> datetime.date:
    """The weekday nearest ``day`` within its month (the ``W`` rule)."""
    if day.weekday() < 5:
        return day
    step = -1 if day.weekday() == 5 else 1
    candidate = day + datetime.timedelta(days=step)
    if candidate.month != day.month:
        candidate = day + datetime.timedelta(days=-2 * step)
    return candidate


def _day_of_week(day: datetime.date, field: str) -> bool:
    if field in ("*", "?"):
        return True
    weekday = (day.weekday() + 1) % 7 + 1  # EventBridge: 1 = Sunday ... 7 = Saturday
    if "#" in field:
        wanted, nth = field.split("#")
        return weekday == _one(wanted, _DAYS) and (day.day - 1) // 7 + 1 == int(nth)
    if field.endswith("L"):
        last = calendar.monthrange(day.year, day.month)[1]
        return weekday == _one(field[:-1] or "7", _DAYS) and day.day > last - 7
    return weekday in _values(field, 1, 7, "dow")


def _one(token: str, names: dict[str, int]) -> int:
    return names[token.upper()] if token.upper() in names else int(token)


@cache
def _values(field: str, low: int, high: int, kind: str = "") -> frozenset[int]:
    """The numbers a list of ``*``, ``N``, ``N-M`` and ``/step`` parts stands for; ``kind``
    names the field whose names (JAN, MON) it may use."""
    names = _NAMES.get(kind, {})
    found: set[int] = set()
    for part in field.split(","):
        base, _, step = part.partition("/")
        if base in ("*", "?"):
            start, stop = low, high
        elif "-" in base:
            first, last = base.split("-")
            start, stop = _one(first, names), _one(last, names)
        else:
            start = _one(base, names)
            stop = high if step else start
        found.update(range(start, stop + 1, int(step) if step else 1))
    return frozenset(v for v in found if low <= v <= high)


# What a CloudWatch alarm can look back over (PutMetricAlarm): a day with periods under an
# hour, seven days with hourly periods.
MINUTE_WINDOW = 86_400
HOUR_WINDOW = 604_800


def alarm_window(seconds: int) -> tuple[int, int]:
    """(period, evaluation periods) of an alarm that needs ``seconds`` of silence to fire:
    minute periods where CloudWatch allows it, hours beyond a day."""
    period = 60 if seconds <= MINUTE_WINDOW else 3600
    if seconds > HOUR_WINDOW:
        raise ScheduleError(f"{seconds} s is more than a CloudWatch alarm can look back over")
    return period, -(-seconds // period)
