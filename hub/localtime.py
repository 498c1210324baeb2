"""Kota Bandung's civil time: Western Indonesia Time (WIB, UTC+7, no daylight saving).

Delivery dates, "today" for contributions and the statistics' months are local dates;
moments are stored in UTC everywhere (`hub.db.UTCDateTime`).
"""

from __future__ import annotations

import datetime as dt

WIB = dt.timezone(dt.timedelta(hours=7), "WIB")


def local_date(moment: dt.datetime) -> dt.date:
    """The calendar date in Bandung (WIB) at `moment`."""
    return moment.astimezone(WIB).date()
