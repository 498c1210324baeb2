"""The fixed moment the synthetic city is generated "as of", so output never depends on today.

Every timestamp is a whole number of seconds before `REFERENCE_TIME` and every date a day
ordinal before `REFERENCE_DATE`: both backends store them exactly, so digests compare.
"""

from __future__ import annotations

import datetime as dt

REFERENCE_TIME = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
REFERENCE_DATE = REFERENCE_TIME.date()
REFERENCE_ORDINAL = REFERENCE_DATE.toordinal()

MINUTE = 60
HOUR = 3600
DAY = 86_400
YEAR_DAYS = 365

#: Needs, pledges and contributions happen within this window before the reference time.
ACTIVITY_WINDOW = 730 * DAY


def seconds_before(seconds: int) -> dt.datetime:
    """The aware UTC datetime `seconds` before the reference time."""
    return REFERENCE_TIME - dt.timedelta(seconds=seconds)


def years_before(years: int) -> int:
    """The day ordinal of the reference date's calendar day, `years` years earlier."""
    return REFERENCE_DATE.replace(year=REFERENCE_DATE.year - years).toordinal()


def years_after(ordinal: int, years: int) -> int:
    """The day ordinal `years` calendar years after `ordinal` (29 February -> 28 February)."""
    day = dt.date.fromordinal(ordinal)
    if (day.month, day.day) == (2, 29):
        day = day.replace(day=28)
    return day.replace(year=day.year + years).toordinal()


def ordinal_of(year: int, month: int = 1, day: int = 1) -> int:
    """The day ordinal of a calendar date."""
    return dt.date(year, month, day).toordinal()
