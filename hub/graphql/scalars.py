"""Custom scalars: NIK (Indonesian national identity number) and Rupiah (whole rupiah)."""

from __future__ import annotations

import datetime as dt
from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

from hub.contributions.models import MAX_RUPIAH
from hub.graphql.errors import BadInput


def ascii_digits(text: str) -> bool:
    """True for a non-empty string of 0-9 only. `str.isdigit` and `int()` also accept
    Arabic-Indic (U+0660-0669) and full-width (U+FF10-FF19) digits, which no register
    holds."""
    return text.isascii() and text.isdigit()


def validate_nik(value: object) -> str:
    """Return `value` as a NIK string, or raise `BadInput` saying what is wrong."""
    if not isinstance(value, str):
        raise BadInput("NIK must be a string of 16 digits", code="INVALID_NIK")
    nik = value.strip()
    if len(nik) != 16 or not ascii_digits(nik):
        raise BadInput(
            f"NIK must be exactly 16 digits (ASCII 0-9); got {len(nik)} characters",
            code="INVALID_NIK",
        )
    if not 11 <= int(nik[:2]) <= 94:
        raise BadInput("NIK digits 1-2 must be a province code (11-94)", code="INVALID_NIK")
    day, month, year = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    if day > 40:
        day -= 40  # women: day of birth plus 40
    try:
        dt.date(2000 + year, month, day)
    except ValueError:
        raise BadInput(
            "NIK digits 7-12 must be a birth date DDMMYY (DD+40 for women)",
            code="INVALID_NIK",
        ) from None
    if nik[12:] == "0000":
        raise BadInput("NIK digits 13-16 are a serial starting at 0001", code="INVALID_NIK")
    return nik


def parse_rupiah(value: object) -> int:
    """Return `value` as whole rupiah, or raise `BadInput` saying what is accepted."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise BadInput(
            "Rupiah must be a whole number (or a string of digits)", code="INVALID_RUPIAH"
        )
    if isinstance(value, str):
        if not ascii_digits(value):
            raise BadInput("Rupiah must be written with the digits 0-9 only", code="INVALID_RUPIAH")
        value = int(value)
    if not 0 <= value <= MAX_RUPIAH:
        raise BadInput(f"Rupiah must be between 0 and {MAX_RUPIAH}", code="INVALID_RUPIAH")
    return value


def parse_datetime(value: object) -> dt.datetime:
    """An ISO 8601 time with its UTC offset; `BadInput` for anything else (naive included)."""
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise BadInput(
            f"{value!r} is not a time with an offset; write ISO 8601 such as "
            "2026-11-27T09:30:00+07:00",
            code="INVALID_DATETIME",
        )
    return moment


def parse_date(value: object) -> dt.date:
    """An ISO 8601 calendar date; `BadInput` for anything else."""
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise BadInput(
            f"{value!r} is not a date; write ISO 8601 such as 2026-11-27", code="INVALID_DATE"
        ) from None


NIK = NewType("NIK", str)
Rupiah = NewType("Rupiah", int)

SCALARS: dict[object, ScalarDefinition] = {
    dt.datetime: strawberry.scalar(
        name="DateTime",
        description="A moment in ISO 8601 with its UTC offset, e.g. `2026-11-27T02:30:00+00:00`. "
        "The hub answers in UTC; input without an offset is refused.",
        serialize=lambda v: v.isoformat(),
        parse_value=parse_datetime,
    ),
    dt.date: strawberry.scalar(
        name="Date",
        description="A calendar day in ISO 8601, e.g. `2026-11-27`.",
        serialize=lambda v: v.isoformat(),
        parse_value=parse_date,
    ),
    NIK: strawberry.scalar(
        name="NIK",
        description=(
            "Nomor Induk Kependudukan: 16 digits. Digits 1-6 are the region of first "
            "registration, 7-12 the birth date DDMMYY with 40 added to the day for women, "
            "13-16 a serial from 0001. Input is checked against this structure."
        ),
        serialize=str,
        parse_value=validate_nik,
    ),
    Rupiah: strawberry.scalar(
        name="Rupiah",
        description=(
            "An amount in whole Indonesian rupiah, serialised as a JSON integer. Unlike `Int` "
            "(32-bit) it carries amounts past 2^31; values stay within 2^53 - 1 so that every "
            "JSON client holds them exactly. Input accepts an integer or a string of digits."
        ),
        serialize=int,
        parse_value=parse_rupiah,
    ),
}
