"""NIK and KK structure: what a number must look like, checked against what it encodes.

A NIK is 16 digits: 1-6 the region of first registration, 7-12 the birth date DDMMYY with
40 added to the day for women, 13-16 a serial from 0001. A KK number has the same layout
with the issue date (no +40). Each check returns `None` or the problem, in Indonesian and
English, so that the importer's rejects file and the API's error messages say the same.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

#: (alasan, reason): the same problem in Indonesian and in English.
Problem = tuple[str, str]


def _digits_problem(number: str, what: str) -> Problem | None:
    if len(number) != 16 or not number.isdigit():
        return (
            f"{what} harus 16 angka; diterima {len(number)} karakter",
            f"{what} must be 16 digits; got {len(number)} characters",
        )
    if not 11 <= int(number[:2]) <= 94:
        return (
            f"{what} angka 1-2 harus kode provinsi (11-94)",
            f"{what} digits 1-2 must be a province code (11-94)",
        )
    if number[12:] == "0000":
        return (
            f"{what} angka 13-16 adalah nomor urut mulai 0001",
            f"{what} digits 13-16 are a serial starting at 0001",
        )
    return None


def nik_problem(nik: str, birth_date: dt.date, sex: str) -> Problem | None:
    """Why `nik` cannot be the NIK of someone of `sex` (F/M) born on `birth_date`, or None."""
    problem = _digits_problem(nik, "NIK")
    if problem is not None:
        return problem
    day = birth_date.day + (40 if sex == "F" else 0)
    expected = f"{day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}"
    encoded = nik[6:12]
    if encoded == expected:
        return None
    other = f"{birth_date.day + (0 if sex == 'F' else 40):02d}{expected[2:]}"
    if encoded == other:
        return (
            f"NIK angka 7-12 ({encoded}) sesuai jenis kelamin lain (tanggal +40 untuk perempuan)",
            f"NIK digits 7-12 ({encoded}) encode the other sex (day +40 for women)",
        )
    return (
        f"NIK angka 7-12 ({encoded}) tidak sesuai tanggal lahir {birth_date.isoformat()} "
        f"(diharapkan {expected})",
        f"NIK digits 7-12 ({encoded}) do not match the birth date {birth_date.isoformat()} "
        f"(expected {expected})",
    )


@lru_cache(maxsize=1024)  # an export lists a family's KK on each member's row, in a run
def kk_problem(kk_number: str) -> Problem | None:
    """Why `kk_number` is not a well-formed KK number (issue date DDMMYY in 7-12), or None."""
    problem = _digits_problem(kk_number, "Nomor KK")
    if problem is not None:
        return problem
    day, month, year = int(kk_number[6:8]), int(kk_number[8:10]), int(kk_number[10:12])
    try:
        dt.date(2000 + year, month, day)
    except ValueError:
        return (
            f"Nomor KK angka 7-12 ({kk_number[6:12]}) bukan tanggal terbit DDMMYY",
            f"KK number digits 7-12 ({kk_number[6:12]}) are not an issue date DDMMYY",
        )
    return None
