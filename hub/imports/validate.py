"""Checking one row of a DTKS export, and turning it into the row the staging table takes.

Each problem names the column, the value and the reason in Indonesian and English, for the
rejects file. What one row cannot show (a NIK listed twice, a household some of whose
members were refused) is checked over the whole file in the staging table (`merge`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from hub.imports.parse import COLUMN_INDEX, EXTRA
from hub.imports.regions import RegionResolver
from hub.needs.reference import PPKS_TYPES
from hub.regions.reference import normalise_name
from hub.registry.numbers import kk_problem, nik_problem

#: (line, iddtks, kk_number, kelurahan_code, kecamatan_code, address, rt, rw, nik, full_name,
#: birth_date, sex, relationship, ppks_code): the staging table's columns, in order.
StagedRow = tuple[int, str, str, str, str, str, str, str, str, str, dt.date, str, str, str | None]
STAGED_COLUMNS = (
    "line", "iddtks", "kk_number", "kelurahan_code", "kecamatan_code", "address", "rt", "rw",
    "nik", "full_name", "birth_date", "sex", "relationship", "ppks_code",
)  # fmt: skip

_SEXES = {
    "l": "M", "lk": "M", "lakilaki": "M", "laki": "M", "pria": "M", "1": "M", "m": "M",
    "p": "F", "pr": "F", "perempuan": "F", "wanita": "F", "2": "F", "f": "F",
}  # fmt: skip
#: SIKS-NG's relationship labels and codes (1-8) to the registry's relationships.
_RELATIONSHIPS = {
    "kepalakeluarga": "HEAD", "kepalarumahtangga": "HEAD", "1": "HEAD",
    "istri": "SPOUSE", "suami": "SPOUSE", "istrisuami": "SPOUSE", "2": "SPOUSE",
    "anak": "CHILD", "3": "CHILD",
    "menantu": "IN_LAW", "4": "IN_LAW",
    "cucu": "GRANDCHILD", "5": "GRANDCHILD",
    "orangtua": "PARENT", "mertua": "PARENT", "orangtuamertua": "PARENT", "6": "PARENT",
    "famililain": "OTHER", "pembanturuta": "OTHER", "pembantu": "OTHER", "lainnya": "OTHER",
    "7": "OTHER", "8": "OTHER",
}  # fmt: skip
#: PPKS types by their Indonesian label or code, normalised (`fakirmiskin`, `ppksfakirmiskin`).
_PPKS = (
    {normalise_name(label): code for code, label, _ in PPKS_TYPES}
    | {normalise_name(code): code for code, _, _ in PPKS_TYPES}
    | {normalise_name(code.removeprefix("PPKS_")): code for code, _, _ in PPKS_TYPES}
)
_CITY_NAMES = {"kotabandung", "bandung", "kotabdg", "3273"}
_PROVINCE_NAMES = {"jawabarat", "jabar", "32", "provinsijawabarat"}
_WIDTH = 19
_DMY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
_RT = re.compile(r"^\d{1,3}$")
#: NIK digits 1-2 the fast path takes (11-94, ASCII); anything else is checked afresh.
_PROVINCE_CODES = frozenset(str(code) for code in range(11, 95))
#: What a cache of `RowValidator` answers for a value it has not seen yet.
_UNSEEN: Any = object()
#: Distinct values (of a kind) `RowValidator` remembers before it starts over.
_REMEMBERED = 200_000


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One reason a row was refused, for one line of the rejects file."""

    line: int
    column: str
    value: str
    alasan: str
    reason: str


@lru_cache(maxsize=4096)
def _key(text: str) -> str:
    """`normalise_name`, remembered: a column like `jenis_kelamin` repeats a few values."""
    return normalise_name(text)


def parse_date(text: str) -> dt.date | None:
    """`YYYY-MM-DD`, `DD-MM-YYYY` or `DD/MM/YYYY` as a date; None when it is none of them."""
    if len(text) == 10 and text[4] == "-":
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return None
    match = _DMY.match(text)
    if match is None:
        return None
    day, month, year = (int(g) for g in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


class RowValidator:
    """Validates rows of one import; `today` bounds birth dates and the data year."""

    def __init__(self, regions: RegionResolver, *, today: dt.date) -> None:
        """A validator resolving region names with `regions`."""
        self.regions = regions
        self.today = today
        self._oldest = today.year - 120
        #: (provinsi, kabupaten_kota, rt, rw, jenis_kelamin, hubungan, tahun, jenis_pmks) ->
        #: (rt, rw, sex, relationship, PPKS code) as staged, or None when any is wrong.
        self._codes: dict[tuple[str, ...], tuple[str, str, str, str, str | None] | None] = {}
        #: tanggal_lahir -> (birth date, NIK digits 7-12 of a man, of a woman), or None.
        self._births: dict[str, tuple[dt.date, str, str] | None] = {}

    def check(
        self, line: int, values: tuple[str, ...]
    ) -> tuple[StagedRow | None, list[RowProblem]]:
        """The staged row, or None and every problem the row has."""
        # The fast path: every check at once, no messages, and what a few values decide
        # (codes, birth dates, region names) remembered from earlier rows. Millions of rows
        # pass here; a row it cannot vouch for is checked afresh (`_check_plain`), and one
        # that fails is examined again, one problem at a time, by `explain`.
        if len(values) == _WIDTH:
            (
                iddtks, provinsi, kota, kecamatan, kelurahan, alamat, _dusun, rt, rw, kk, nik,
                nama, tanggal, _tempat, jenis_kelamin, _ibu, hubungan, tahun, pmks,
            ) = values  # fmt: skip
            key = (provinsi, kota, rt, rw, jenis_kelamin, hubungan, tahun, pmks)
            codes = self._codes.get(key, _UNSEEN)
            if codes is _UNSEEN:
                codes = self._remember_codes(key)
            birth = self._births.get(tanggal, _UNSEEN)
            if birth is _UNSEEN:
                birth = self._remember_birth(tanggal)
            found, used = self.regions.lookup(kecamatan, kelurahan)
            if codes is not None and birth is not None and isinstance(found[1], str):
                rt_value, rw_value, sex, relationship, ppks = codes
                name = " ".join(nama.split())
                if (
                    0 < len(iddtks) <= 32
                    and 0 < len(alamat) <= 200
                    and 0 < len(name) <= 120
                    and len(nik) == 16
                    and nik[6:12] == birth[2 if sex == "F" else 1]
                    and nik.isdigit()
                    and nik[:2] in _PROVINCE_CODES
                    and nik[12:] != "0000"
                    and kk_problem(kk) is None
                ):
                    for decision in used:  # as `resolve` counts them
                        decision.rows += 1
                    return (
                        line, iddtks, kk, found[0], found[1], alamat, rt_value, rw_value,
                        nik, name, birth[0], sex, relationship, ppks,
                    ), []  # fmt: skip
        return self._check_plain(line, values)

    def _remember_codes(self, key: tuple[str, ...]) -> tuple[str, str, str, str, str | None] | None:
        provinsi, kota, rt, rw, jenis_kelamin, hubungan, tahun, pmks = key
        sex = _SEXES.get(_key(jenis_kelamin))
        relationship = _RELATIONSHIPS.get(_key(hubungan))
        ppks = _PPKS.get(_key(pmks)) if pmks else None
        rt_value, rw_value = _rt_rw(rt), _rt_rw(rw)
        codes = None
        if (
            rt_value is not None
            and rw_value is not None
            and sex is not None
            and relationship is not None
            and (ppks is not None or not pmks)
            and _key(provinsi) in _PROVINCE_NAMES
            and _key(kota) in _CITY_NAMES
            and _year_ok(tahun, self.today.year)
        ):
            codes = (rt_value, rw_value, sex, relationship, ppks)
        if len(self._codes) >= _REMEMBERED:
            self._codes.clear()
        self._codes[key] = codes
        return codes

    def _remember_birth(self, text: str) -> tuple[dt.date, str, str] | None:
        birth = parse_date(text)
        known = None
        if birth is not None and self._oldest <= birth.year and birth <= self.today:
            rest = f"{birth.month:02d}{birth.year % 100:02d}"
            known = (birth, f"{birth.day:02d}{rest}", f"{birth.day + 40:02d}{rest}")
        if len(self._births) >= _REMEMBERED:
            self._births.clear()
        self._births[text] = known
        return known

    def _check_plain(
        self, line: int, values: tuple[str, ...]
    ) -> tuple[StagedRow | None, list[RowProblem]]:
        """`check` without the remembered answers: each value examined afresh."""
        if len(values) == _WIDTH:
            (
                iddtks, provinsi, kota, kecamatan, kelurahan, alamat, _dusun, rt, rw, kk, nik,
                nama, tanggal, _tempat, jenis_kelamin, _ibu, hubungan, tahun, pmks,
            ) = values  # fmt: skip
            resolved = self.regions.resolve(kecamatan, kelurahan)
            sex = _SEXES.get(_key(jenis_kelamin))
            relationship = _RELATIONSHIPS.get(_key(hubungan))
            ppks = _PPKS.get(_key(pmks)) if pmks else None
            rt_value, rw_value = _rt_rw(rt), _rt_rw(rw)
            birth = parse_date(tanggal)
            name = " ".join(nama.split())
            if (
                0 < len(iddtks) <= 32
                and 0 < len(alamat) <= 200
                and 0 < len(name) <= 120
                and isinstance(resolved[1], str)
                and rt_value is not None
                and rw_value is not None
                and sex is not None
                and relationship is not None
                and (ppks is not None or not pmks)
                and birth is not None
                and self._oldest <= birth.year
                and birth <= self.today
                and _key(provinsi) in _PROVINCE_NAMES
                and _key(kota) in _CITY_NAMES
                and _year_ok(tahun, self.today.year)
                and kk_problem(kk) is None
                and nik_problem(nik, birth, sex) is None
            ):
                return (
                    line, iddtks, kk, resolved[0], resolved[1], alamat, rt_value, rw_value,
                    nik, name, birth, sex, relationship, ppks,
                ), []  # fmt: skip
        return None, self.explain(line, values)

    def explain(self, line: int, values: tuple[str, ...]) -> list[RowProblem]:
        """Every problem of a row that `check` refused, for the rejects file."""
        problems: list[RowProblem] = []

        def bad(column: str, alasan: str, reason: str) -> None:
            problems.append(RowProblem(line, column, values[COLUMN_INDEX[column]], alasan, reason))

        if values[-1] == EXTRA:
            problems.append(
                RowProblem(
                    line,
                    "*",
                    "",
                    "baris memiliki lebih banyak kolom daripada judul",
                    "the row has more values than the header has columns",
                )
            )
            return problems
        (
            iddtks, provinsi, kota, kecamatan, kelurahan, alamat, _dusun, rt, rw, kk, nik,
            nama, tanggal, _tempat, jenis_kelamin, _ibu, hubungan, tahun, pmks,
        ) = values  # fmt: skip

        if not iddtks or len(iddtks) > 32:
            bad(
                "iddtks",
                "IDDTKS kosong atau lebih dari 32 karakter",
                "IDDTKS empty or over 32 characters",
            )
        if _key(provinsi) not in _PROVINCE_NAMES:
            bad("provinsi", "provinsi harus Jawa Barat", "the province must be Jawa Barat")
        if _key(kota) not in _CITY_NAMES:
            bad(
                "kabupaten_kota",
                "wilayah di luar Kota Bandung (32.73)",
                "region outside Kota Bandung (32.73)",
            )
        resolved = self.regions.resolve(kecamatan, kelurahan)
        if isinstance(resolved[1], tuple):
            bad(resolved[0], *resolved[1])
        if not alamat or len(alamat) > 200:
            bad(
                "alamat",
                "alamat kosong atau lebih dari 200 karakter",
                "address empty or over 200 characters",
            )
        rt_value = _rt_rw(rt)
        if rt_value is None:
            bad("rt", "RT kosong atau bukan angka 1-999", "RT missing or not a number 1-999")
        rw_value = _rt_rw(rw)
        if rw_value is None:
            bad("rw", "RW kosong atau bukan angka 1-999", "RW missing or not a number 1-999")
        kk_issue = kk_problem(kk)
        if kk_issue is not None:
            bad("nomor_kk", *kk_issue)
        name = " ".join(nama.split())
        if not name or len(name) > 120:
            bad(
                "nama",
                "nama kosong atau lebih dari 120 karakter",
                "name empty or over 120 characters",
            )
        sex = _SEXES.get(_key(jenis_kelamin))
        if sex is None:
            bad(
                "jenis_kelamin",
                "jenis kelamin harus LAKI-LAKI atau PEREMPUAN",
                "sex must be LAKI-LAKI or PEREMPUAN",
            )
        birth = parse_date(tanggal)
        if birth is None:
            bad(
                "tanggal_lahir",
                "tanggal lahir bukan tanggal (YYYY-MM-DD atau DD-MM-YYYY)",
                "birth date is not a date (YYYY-MM-DD or DD-MM-YYYY)",
            )
        elif birth > self.today or birth.year < self.today.year - 120:
            bad(
                "tanggal_lahir",
                "tanggal lahir di masa depan atau lebih dari 120 tahun lalu",
                "birth date in the future or more than 120 years ago",
            )
            birth = None
        if birth is not None and sex is not None:
            nik_issue = nik_problem(nik, birth, sex)
            if nik_issue is not None:
                bad("nomor_nik", *nik_issue)
        elif len(nik) != 16 or not nik.isdigit():
            bad("nomor_nik", "NIK harus 16 angka", "NIK must be 16 digits")
        relationship = _RELATIONSHIPS.get(_key(hubungan))
        if relationship is None:
            bad(
                "hubungan_keluarga",
                "hubungan keluarga tidak dikenal (Kepala Keluarga, Istri/Suami, Anak, Menantu, "
                "Cucu, Orang Tua/Mertua, Famili Lain, atau kode 1-8)",
                "unknown relationship (head, spouse, child, in-law, grandchild, parent, "
                "other, or code 1-8)",
            )
        ppks = None
        if pmks:
            ppks = _PPKS.get(_key(pmks))
            if ppks is None:
                bad(
                    "jenis_pmks",
                    "jenis PMKS tidak ada dalam 26 jenis PPKS Permensos 5/2019",
                    "PMKS type is not one of the 26 PPKS types of Permensos 5/2019",
                )
        if not _year_ok(tahun, self.today.year):
            bad(
                "tahun_data",
                f"tahun data harus tahun 2010-{self.today.year}",
                f"data year must be a year 2010-{self.today.year}",
            )
        if not problems:  # `check` and `explain` disagree: a bug, never a silent accept
            raise AssertionError(f"line {line}: refused by check, no problem found: {values}")
        return problems


def _year_ok(text: str, this_year: int) -> bool:
    """True when `text` is a data year from 2010 to this year."""
    return len(text) == 4 and text.isdigit() and 2010 <= int(text) <= this_year


@lru_cache(maxsize=4096)
def _rt_rw(text: str) -> str | None:
    """RT/RW as three digits (`7` -> `007`), or None when missing or not 1-999."""
    if not _RT.match(text) or int(text) == 0:
        return None
    return f"{int(text):03d}"
