"""The import's vectorised fast path: a run of plain lines read and checked with polars.

`RowValidator.check` costs a few microseconds of Python per row; here a whole chunk of
plain lines (`PlainLines`: no quote, carriage return or NUL) is split, stripped and checked
column by column. What a value decides is still decided by the validator's own functions,
once per distinct value (codes, RT/RW, birth dates, KK issue dates, region names); the rest
of the checks are expressions over the columns, each at least as strict as the rule it
stands for. The fast path only *vouches* for rows: every row it cannot vouch for (a value
it is not sure of, a line of the wrong width, white space beyond ASCII's) is read as
`parse` reads it and checked by `RowValidator._check_plain`, which writes every problem,
so that the rejects file is the same whichever path a row took.

Region names are resolved once per distinct (kecamatan, kelurahan) pair, in the order of
their first rows (as row-by-row checking meets them: which spelling is recorded first
decides a fuzzy decision); each fuzzy decision counts the rows vouched for with it, and
`_check_plain` counts the others as it always has.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl

from hub.imports.parse import COLUMNS, PlainLines
from hub.imports.validate import (
    _CITY_NAMES,
    _PPKS,
    _PROVINCE_CODES,
    _PROVINCE_NAMES,
    _RELATIONSHIPS,
    _REMEMBERED,
    _SEXES,
    STAGED_COLUMNS,
    RowValidator,
    StagedRow,
    _key,
    _rt_rw,
    _year_ok,
)

#: The staged rows of a chunk, as `import_rows` takes them.
STAGED_SCHEMA: dict[str, Any] = {
    name: pl.Int64 if name == "line" else pl.Date if name == "birth_date" else pl.String
    for name in STAGED_COLUMNS
}
#: What `str.strip` strips from a value of `PlainLines` (which holds no other white space).
_ASCII_SPACE = " \t\x0b\x0c"
_SPACE_RUN = "[ \\t\\x0b\\x0c]+"
_SIXTEEN_DIGITS = "^[0-9]{16}$"
_ISO_DATE = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


@dataclass
class Checked:
    """One chunk checked: its staged rows (in line order), and the rows refused."""

    staged: pl.DataFrame
    #: (line, iddtks, nik) of each row refused on its own, in line order.
    bad: list[tuple[int, str, str]]
    #: Their problems (line, column, value, alasan, reason), in line order.
    problems: list[tuple[int, str, str, str, str]]
    #: Rows the chunk held (blank lines are none).
    rows: int


def staged_frame(rows: list[StagedRow]) -> pl.DataFrame:
    """Staged rows (tuples) as a frame of `STAGED_SCHEMA`."""
    return pl.DataFrame(rows, schema=STAGED_SCHEMA, orient="row")


#: The keys the fast path decides with the validator's own functions, once per distinct
#: key: (key columns, the decided columns and their types).
_DECIDED: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (("rt",), {"rt_value": pl.String}),
    (("rw",), {"rw_value": pl.String}),
    (("jenis_kelamin",), {"sex": pl.String}),
    (("hubungan_keluarga",), {"relationship": pl.String}),
    (("jenis_pmks",), {"ppks_ok": pl.Boolean, "ppks": pl.String}),
    (("provinsi", "kabupaten_kota", "tahun_data"), {"codes_ok": pl.Boolean}),
    (("kecamatan", "desa_kelurahan"), {"kelurahan_code": pl.String, "kecamatan_code": pl.String}),
]


class ColumnarChecker:
    """Checks `PlainLines` with polars, deciding as `validator` does (and with its resolver)."""

    def __init__(self, validator: RowValidator) -> None:
        """A checker that decides with `validator`'s rules and resolver."""
        self.validator = validator
        self._today = validator.today
        self._oldest = validator.today.year - 120
        #: Per kind of key: each key seen (its columns joined with NUL), what it decides.
        self._known: dict[tuple[str, ...], dict[str, tuple[Any, ...]]] = {}
        today, regions = validator.today, validator.regions

        def ppks(text: str) -> tuple[bool, str | None]:
            code = _PPKS.get(_key(text)) if text else None
            return (code is not None or not text), code

        def region(kecamatan: str, kelurahan: str) -> tuple[str | None, str | None]:
            found, _ = regions.lookup(kecamatan, kelurahan)
            return (found[0], found[1]) if isinstance(found[1], str) else (None, None)

        self._decide: dict[tuple[str, ...], Callable[..., tuple[Any, ...]]] = {
            ("rt",): lambda v: (_rt_rw(v),),
            ("rw",): lambda v: (_rt_rw(v),),
            ("jenis_kelamin",): lambda v: (_SEXES.get(_key(v)),),
            ("hubungan_keluarga",): lambda v: (_RELATIONSHIPS.get(_key(v)),),
            ("jenis_pmks",): ppks,
            ("provinsi", "kabupaten_kota", "tahun_data"): lambda p, k, t: (
                _key(p) in _PROVINCE_NAMES and _key(k) in _CITY_NAMES and _year_ok(t, today.year),
            ),
            ("kecamatan", "desa_kelurahan"): region,
        }

    def check(self, block: PlainLines) -> Checked:
        """Every row of `block`: the vouched and the plainly accepted staged, the rest refused."""
        fields = block.fields
        values = fields.select(
            pl.int_range(block.before + 1, block.before + 1 + fields.height).alias("line"),
            *(
                pl.col(f"c{position}").str.strip_chars(_ASCII_SPACE).alias(name)
                for name, position in zip(COLUMNS, block.positions, strict=True)
            ),
        )
        # Every distinct key of the chunk at once; region pairs in the order of their first
        # rows, as row-by-row checking meets them (the first spelling of a fuzzy decision
        # stays). A key of several columns is joined with NUL, which no plain line holds.
        keyed = values.lazy().select(
            *(_key_of(keys).alias("\x00".join(keys)) for keys, _ in _DECIDED)
        )
        distinct = pl.collect_all(
            [
                keyed.select(pl.col("\x00".join(keys)).unique(maintain_order=True))
                for keys, _ in _DECIDED
            ]
        )
        decided = []
        for (keys, outputs), found in zip(_DECIDED, distinct, strict=True):
            known = self._known.setdefault(keys, {})
            if len(known) + found.height > _REMEMBERED:
                known.clear()
            decide = self._decide[keys]
            texts = found.to_series().to_list()
            answers = []
            for text in texts:
                answer = known.get(text)
                if answer is None:
                    answer = known[text] = decide(*text.split("\x00"))
                answers.append(answer)
            key = _key_of(keys)
            for i, (name, dtype) in enumerate(outputs.items()):
                new = [answer[i] for answer in answers]
                decided.append(
                    key.replace_strict(texts, new, default=None, return_dtype=dtype).alias(name)
                )
        lazy = values.lazy().with_columns(decided)
        iso_only = bool(values.select(pl.col("tanggal_lahir").str.contains(_ISO_DATE).all()).item())
        checked = (
            lazy.with_columns(
                pl.col("nama").str.replace_all(_SPACE_RUN, " ").alias("full_name"),
                *self._birth(pl.col("tanggal_lahir"), iso_only),
                self._issued(pl.col("nomor_kk")),
            )
            .with_columns(_vouched().alias("vouched"))
            .collect()
        )
        good = checked.filter(pl.col("vouched"))
        rest = checked.filter(~pl.col("vouched")).select("line", *COLUMNS)
        staged = good.select(_STAGED)
        self._count_fuzzy(good.group_by("kecamatan", "desa_kelurahan").len())
        # The rest, each checked afresh by the plain code, which also writes its problems.
        accepted: list[StagedRow] = []
        bad: list[tuple[int, str, str]] = []
        problems: list[tuple[int, str, str, str, str]] = []
        iddtks_at, nik_at = COLUMNS.index("iddtks"), COLUMNS.index("nomor_nik")
        check_plain = self.validator._check_plain
        for number, *row in rest.iter_rows():
            staged_row, found_problems = check_plain(number, tuple(row))
            if staged_row is not None:
                accepted.append(staged_row)
            else:
                bad.append((number, row[iddtks_at], row[nik_at]))
                problems.extend(
                    (p.line, p.column, p.value, p.alasan, p.reason) for p in found_problems
                )
        if accepted:
            staged = pl.concat([staged, staged_frame(accepted)]).sort("line")
        return Checked(staged, bad, problems, values.height)

    def _count_fuzzy(self, pairs: pl.DataFrame) -> None:
        """Count the vouched rows each fuzzy decision decided (as `resolve` would)."""
        lookup = self.validator.regions.lookup
        for kecamatan, kelurahan, rows in pairs.iter_rows():
            _, used = lookup(kecamatan, kelurahan)
            for decision in used:
                decision.rows += rows

    def _birth(self, text: pl.Expr, iso_only: bool) -> list[pl.Expr]:
        """The birth date (`birth`) `parse_date` reads from `text`, where the fast path
        takes it (ASCII digits, at most 120 years ago, not in the future; else null), and
        the date as `YYYY-MM-DD` (`iso_birth`, whose digits the NIK must repeat). polars
        reads `YYYY-MM-DD` as `date.fromisoformat` does (a test compares them over every
        month and day 00-99). With `iso_only`, every text of the chunk has that form."""
        iso = text
        if not iso_only:
            dmy = text.str.extract_groups(r"^([0-9]{1,2})[-/.]([0-9]{1,2})[-/.]([0-9]{4})$")
            iso = (
                pl.when(text.str.contains(_ISO_DATE))
                .then(text)
                .otherwise(
                    pl.concat_str(
                        dmy.struct[2],
                        dmy.struct[1].str.zfill(2),
                        dmy.struct[0].str.zfill(2),
                        separator="-",
                    )
                )
            )
        date = iso.str.to_date("%Y-%m-%d", strict=False)
        date = pl.when(date.dt.year() >= self._oldest, date <= self._today).then(date)
        return [date.alias("birth"), iso.alias("iso_birth")]

    @staticmethod
    def _issued(kk: pl.Expr) -> pl.Expr:
        """Whether digits 7-12 of a KK number are an issue date DDMMYY of 2000-2099, as
        `kk_problem` reads them (true only for ASCII digits)."""
        digits = kk.str.slice(6, 6)
        iso = pl.concat_str(
            pl.lit("20") + digits.str.slice(4, 2),
            digits.str.slice(2, 2),
            digits.str.slice(0, 2),
            separator="-",
        )
        sure = digits.str.contains("^[0-9]{6}$")
        return (sure & iso.str.to_date("%Y-%m-%d", strict=False).is_not_null()).alias("kk_issued")


def _key_of(keys: tuple[str, ...]) -> pl.Expr:
    """The columns `keys` as one text (joined with NUL, which no plain line holds)."""
    if len(keys) == 1:
        return pl.col(keys[0])
    return pl.concat_str([pl.col(k) for k in keys], separator="\x00")


def _vouched() -> pl.Expr:
    """True for a row the fast path vouches for: each term as strict as the rule of
    `RowValidator._check_plain` it stands for, or stricter (ASCII digits only)."""
    col = pl.col
    nik, kk, iso = col("nomor_nik"), col("nomor_kk"), col("iso_birth")
    provinces = list(_PROVINCE_CODES)
    return (
        col("iddtks").str.len_chars().is_between(1, 32)
        & col("alamat").str.len_chars().is_between(1, 200)
        & col("full_name").str.len_chars().is_between(1, 120)
        & col("kelurahan_code").is_not_null()
        & col("rt_value").is_not_null()
        & col("rw_value").is_not_null()
        & col("sex").is_not_null()
        & col("relationship").is_not_null()
        & col("ppks_ok")
        & col("codes_ok")
        & col("birth").is_not_null()
        & nik.str.contains(_SIXTEEN_DIGITS)
        & nik.str.slice(0, 2).is_in(provinces)
        & (nik.str.slice(12) != "0000")
        # NIK digits 7-12: the birth date DDMMYY, 40 added to the day of a woman.
        & (
            nik.str.slice(6, 2).cast(pl.Int32, strict=False)
            == iso.str.slice(8, 2).cast(pl.Int32, strict=False)
            + pl.when(col("sex") == "F").then(40).otherwise(0)
        )
        & (nik.str.slice(8, 2) == iso.str.slice(5, 2))
        & (nik.str.slice(10, 2) == iso.str.slice(2, 2))
        & kk.str.contains(_SIXTEEN_DIGITS)
        & kk.str.slice(0, 2).is_in(provinces)
        & (kk.str.slice(12) != "0000")
        & col("kk_issued")
    ).fill_null(False)


#: The staged columns of a vouched row.
_STAGED = [
    pl.col("line"),
    pl.col("iddtks"),
    pl.col("nomor_kk").alias("kk_number"),
    pl.col("kelurahan_code"),
    pl.col("kecamatan_code"),
    pl.col("alamat").alias("address"),
    pl.col("rt_value").alias("rt"),
    pl.col("rw_value").alias("rw"),
    pl.col("nomor_nik").alias("nik"),
    pl.col("full_name"),
    pl.col("birth").alias("birth_date"),
    pl.col("sex"),
    pl.col("relationship"),
    pl.col("ppks").alias("ppks_code"),
]


#: One row per household of a batch of staged rows (`Digest.groups`): the least and
#: greatest of each value its rows must share, the least kecamatan code and the first line.
GROUP_COLUMNS = (
    "iddtks", "kk_number", "kk_last", "kelurahan_code", "kel_last", "kecamatan_code",
    "address", "address_last", "rt", "rt_last", "rw", "rw_last", "line",
)  # fmt: skip


@dataclass
class Digest:
    """What the whole-file checks need of a batch of staged rows, taken as it is read
    (while the database would otherwise wait): each of its households once (`groups`, of
    `GROUP_COLUMNS`), and its NIKs with their lines (`niks`: those of 16 ASCII digits as
    numbers, the same text for the same number; `other_niks`: any other, as text)."""

    groups: pl.DataFrame
    niks: pl.DataFrame
    other_niks: pl.DataFrame


def digest(staged: pl.DataFrame) -> Digest:
    """The `Digest` of staged rows (a frame of `STAGED_SCHEMA`). polars compares text
    byte by byte, as COLLATE "C" (and SQLite's BINARY) does: the least and greatest of a
    household's partial rows are those of its rows."""
    col = pl.col
    groups = staged.group_by("iddtks").agg(
        col("kk_number").min(),
        col("kk_number").max().alias("kk_last"),
        col("kelurahan_code").min(),
        col("kelurahan_code").max().alias("kel_last"),
        col("kecamatan_code").min(),
        col("address").min(),
        col("address").max().alias("address_last"),
        col("rt").min(),
        col("rt").max().alias("rt_last"),
        col("rw").min(),
        col("rw").max().alias("rw_last"),
        col("line").min(),
    )
    ascii = col("nik").str.contains("^[0-9]{16}$")
    niks = staged.select(col("nik"), col("line").cast(pl.Int32))
    return Digest(
        groups.select(GROUP_COLUMNS),
        niks.filter(ascii).with_columns(col("nik").cast(pl.UInt64)),
        niks.filter(~ascii),
    )


def repeated_niks(niks: list[pl.DataFrame], other_niks: list[pl.DataFrame]) -> pl.DataFrame:
    """Each NIK listed more than once in the digests' `niks` and `other_niks`, with its
    first line (`nik`, `first`), as `GROUP BY nik HAVING count(*) > 1` finds them.

    The numbers (all but a handful of the file's NIKs) are sorted once, as one column of
    `UInt64`, and a repeat is a number equal to the one before it (two zero-copy slices
    compared): 8 bytes a row for the sort's copy, where a hash of 2.6 million numbers
    (`is_duplicated`, a group per number) took about 140 MiB more at its peak (measured
    with /proc's VmRSS). Only the repeated numbers' rows are then gathered, part by part,
    for their first lines."""
    col = pl.col
    found = []
    if niks:
        repeated = _repeated(pl.concat([part.get_column("nik") for part in niks], rechunk=True))
        rows = pl.concat([part.filter(col("nik").is_in(repeated.implode())) for part in niks])
        repeats = rows.group_by("nik").agg(col("line").min().alias("first"))
        # 16 digits: the leading zeros back
        found.append(repeats.with_columns(col("nik").cast(pl.String).str.zfill(16)))
    if other_niks:
        frame = pl.concat(other_niks)
        repeats = frame.filter(col("nik").is_duplicated())
        found.append(repeats.group_by("nik").agg(col("line").min().alias("first")))
    if not found:
        return pl.DataFrame(schema={"nik": pl.String, "first": pl.Int32})
    return pl.concat(found)


def repeated_households(households: list[pl.Series]) -> pl.Series:
    """The DTKS ids met in more than one of `households` (each batch's, once each: its
    `Digest.groups` ids), sorted once and compared each with the one before it, as
    `repeated_niks` does the NIKs."""
    if not households:
        return pl.Series("iddtks", [], dtype=pl.String)
    return _repeated(pl.concat(households, rechunk=True))


def _repeated(values: pl.Series) -> pl.Series:
    """Each value of `values` listed more than once: the values sorted (one copy), and a
    repeat is one equal to the one before it (two zero-copy slices compared)."""
    values = values.sort()
    later = values.slice(1)
    return later.filter(later == values.slice(0, later.len())).unique()
