"""EventBridge's schedule grammar, and the period rules compare alarms against."""

from __future__ import annotations

import pytest

from replgen.spec import cadence
from replgen.spec.schedule import ScheduleError, check, check_cron

VALID = [
    ("rate(1 minute)", 60),
    ("rate(5 minutes)", 300),
    ("rate(1 hour)", 3600),
    ("rate(12 hours)", 43200),
    ("rate(1 day)", 86400),
    ("cron(0 3 * * ? *)", 86400),
    ("cron(0/15 * * * ? *)", 900),
    ("cron(10-30/5 * * * ? *)", 2400),  # :10 to :30 each hour: from :30 to the next :10
    ("cron(0 9 ? * MON-FRI *)", 3 * 86400),  # Friday 9:00 to Monday 9:00
    ("cron(0 6,18 * * ? *)", 12 * 3600),
    ("cron(0 5 L * ? *)", None),  # the last day of the month: no fixed period
    ("cron(0 5 15W * ? *)", None),
    ("cron(0 5 ? * 6#3 *)", None),
    ("cron(0 5 ? * 6L *)", None),
    ("cron(0 5 * JAN-MAR ? *)", None),
    ("cron(0 5 * * ? 2030)", None),
]


@pytest.mark.parametrize(("expression", "period"), VALID)
def test_valid_expressions_and_their_period(expression: str, period: int | None) -> None:
    assert check(expression) == expression
    if period is not None:  # the grammar and the alarm window agree on the longest gap
        assert cadence.period_seconds(expression) == period


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("rate(1 hours)", "write rate(1 hour)"),
        ("rate(5 hour)", "write rate(5 hours)"),
        ("rate(0 minutes)", "a whole number from 1"),
        ("rate(01 hour)", "a whole number from 1"),
        ("rate(1  hour)", "write rate(<number> <unit>)"),
        ("rate(2 weeks)", "unknown unit 'weeks'"),
        ("cron(0 * * * *)", "cron needs 6 fields"),
        ("cron(0 3 * * * *)", "exactly one of day-of-month (*) and day-of-week (*)"),
        ("cron(0 3 ? * ? *)", "exactly one of day-of-month (?) and day-of-week (?)"),
        ("cron(60 3 * * ? *)", "minutes '60' is not in 0-59"),
        ("cron(0 24 * * ? *)", "hours '24' is not in 0-23"),
        ("cron(0 3 32 * ? *)", "day-of-month '32' is not in 1-31"),
        ("cron(0 3 * 13 ? *)", "month '13' is not in 1-12 or JAN-DEC"),
        ("cron(0 3 ? * 8 *)", "day-of-week '8' is not in 1-7 or SUN-SAT"),
        ("cron(0 3 ? * FRI-MON *)", "a range that ends before it starts"),
        ("cron(0 3 * * ? 1969)", "year '1969' is not in 1970-2199"),
        ("cron(0/0 3 * * ? *)", "an increment that is not a number from 1 to 59"),
        ("cron(0 1-2-3 * * ? *)", "is not a value, a range a-b, * or an increment x/y"),
        ("every hour", "is not an EventBridge schedule"),
    ],
)
def test_refused_with_the_reason(expression: str, reason: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        check(expression)
    assert reason in str(caught.value)


def test_backup_plans_take_cron_only() -> None:
    assert check_cron("cron(0 5 * * ? *)") == "cron(0 5 * * ? *)"
    with pytest.raises(ScheduleError, match="is not a cron expression"):
        check_cron("rate(1 day)")
