"""The longest gap of a schedule, which sizes the staleness alarm's window."""

from __future__ import annotations

import pytest

from replgen.spec import cadence


@pytest.mark.parametrize(
    ("expression", "hours"),
    [
        ("rate(1 hour)", 1),
        ("rate( 5  minutes )", 5 / 60),
        ("rate(2 days)", 48),
        ("cron(0 5 * * ? *)", 24),  # daily
        ("cron(0/15 * * * ? *)", 0.25),
        ("cron(30 2,14 * * ? *)", 12),
        ("cron(0 9 ? * MON-FRI *)", 72),  # Friday 09:00 to Monday 09:00
        ("cron(0 3 L * ? *)", 31 * 24),  # last day of the month: 31 days at most
        ("cron(0 3 ? * 6#3 *)", 35 * 24),  # the third Friday: five weeks at most
        ("cron(0 8 ? * 2L *)", 35 * 24),  # the last Monday
        ("cron(0 8 15W * ? *)", 32 * 24),  # e.g. the 15th (a Thursday) to the 16th (a Monday)
        ("cron(0 0 1 JAN,JUL ? *)", 184 * 24),  # July to January
    ],
)
def test_longest_gap(expression: str, hours: float) -> None:
    assert cadence.period_seconds(expression) == round(hours * 3600)


@pytest.mark.parametrize("expression", ["every hour", "cron(0 5 * * ?)", "cron(0 0 30 FEB ? *)"])
def test_unreadable_or_never_repeating_schedules(expression: str) -> None:
    with pytest.raises(cadence.ScheduleError):
        cadence.period_seconds(expression)


def test_alarm_windows_use_minutes_up_to_a_day_then_hours() -> None:
    assert cadence.alarm_window(3660) == (60, 61)
    assert cadence.alarm_window(86_400) == (60, 1440)
    assert cadence.alarm_window(86_460) == (3600, 25)
    with pytest.raises(cadence.ScheduleError):
        cadence.alarm_window(cadence.HOUR_WINDOW + 1)
