"""NIK and KK numbers: region digits, a date, and a serial unique per 12-digit prefix.

Serials are counted in flat arrays indexed by (kecamatan, day[, sex]) rather than in a dict of
prefixes, so the bookkeeping stays a few megabytes whether the city has 2,000 residents or
2.6 million.
"""

from __future__ import annotations

import datetime as dt
from array import array

from hub.synthetic.clock import REFERENCE_ORDINAL, years_before

#: Oldest birth date a NIK may carry: under a century back, so DDMMYY never repeats.
OLDEST_BIRTH_ORDINAL = years_before(98)
#: First issue date of a synthetic KK (the e-KTP era).
FIRST_KK_ORDINAL = dt.date(2005, 1, 1).toordinal()
MAX_SERIAL = 9999


class SerialsExhaustedError(ValueError):
    """More than 9,999 numbers were asked for one 12-digit prefix."""


class SerialBook:
    """Hands out serials 1, 2, 3, … per (group, day), for days in a fixed range."""

    __slots__ = ("_counts", "_days", "_first")

    def __init__(self, first_ordinal: int, last_ordinal: int, groups: int) -> None:
        """A book for `groups` groups over the days `first_ordinal..last_ordinal`."""
        self._first = first_ordinal
        self._days = last_ordinal - first_ordinal + 1
        self._counts = array("H", bytes(2 * groups * self._days))

    def take(self, group: int, ordinal: int) -> int:
        """The next serial of `group` on day `ordinal`."""
        offset = ordinal - self._first
        if not 0 <= offset < self._days:
            raise ValueError(f"day {dt.date.fromordinal(ordinal)} is outside the serial book")
        index = group * self._days + offset
        serial = self._counts[index] + 1
        if serial > MAX_SERIAL:
            raise SerialsExhaustedError("more than 9,999 numbers share one 12-digit prefix")
        self._counts[index] = serial
        return serial


def region_digits(kecamatan_code: str) -> str:
    """The six NIK/KK digits of a kecamatan: `32.73.01` -> `327301`."""
    return kecamatan_code.replace(".", "")


def date_digits(day: dt.date, *, female: bool = False) -> str:
    """DDMMYY, with 40 added to the day for women (the NIK convention)."""
    return f"{day.day + 40 if female else day.day:02d}{day.month:02d}{day.year % 100:02d}"


class NumberIssuer:
    """Issues unique NIKs and KK numbers for the kecamatan of one city."""

    __slots__ = ("_digits", "_index", "_kk", "_nik")

    def __init__(self, kecamatan_codes: list[str]) -> None:
        """An issuer for these kecamatan, with empty serial books."""
        self._digits = {code: region_digits(code) for code in kecamatan_codes}
        self._index = {code: n for n, code in enumerate(kecamatan_codes)}
        self._nik = SerialBook(OLDEST_BIRTH_ORDINAL, REFERENCE_ORDINAL, 2 * len(kecamatan_codes))
        self._kk = SerialBook(FIRST_KK_ORDINAL, REFERENCE_ORDINAL, len(kecamatan_codes))

    def nik(self, kecamatan_code: str, birth_date: dt.date, *, female: bool) -> str:
        """A new NIK first registered in `kecamatan_code` for someone born on `birth_date`."""
        group = 2 * self._index[kecamatan_code] + female
        serial = self._nik.take(group, birth_date.toordinal())
        return f"{self._digits[kecamatan_code]}{date_digits(birth_date, female=female)}{serial:04d}"

    def kk_number(self, kecamatan_code: str, issued_on: dt.date) -> str:
        """A new KK number issued in `kecamatan_code` on `issued_on`."""
        serial = self._kk.take(self._index[kecamatan_code], issued_on.toordinal())
        return f"{self._digits[kecamatan_code]}{date_digits(issued_on)}{serial:04d}"
