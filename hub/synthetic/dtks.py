"""SIKS-NG-shaped DTKS exports of the synthetic city, dirty on purpose, and their next month.

`write_export` writes the PMKS export of a synthetic Bandung, pipe-separated as SIKS-NG
does, without touching a database: its families are made as `hub seed` makes them, but not
the same ones (the seeded city draws needs, enrolments and foundations from the same random
stream). `write_registry_export` writes the households a registry holds instead: the demo's
sample (`write_demo_samples`) is the demo city's own. Region names
come the way exports carry them: upper case, `Kec.` prefixes, the spellings of the 2022
decree. A share of families is dirty on purpose, one defect each: a misspelt kelurahan that
the fuzzy match accepts, and defects the importer must refuse (a NIK whose date disagrees
with the birth date, a NIK already listed, a missing RT, a place outside Kota Bandung).

`write_next_month` derives the following month's export from one: about 2 % of the rows
change (families moving house, members moving to another KK or starting their own, babies
born, people no longer listed). Both return what they did, line by line, so tests can check
an import against it.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from typing import Any

from hub.imports.parse import COLUMNS
from hub.imports.regions import RegionResolver
from hub.needs.reference import PPKS_TYPES
from hub.regions.reference import OLD_SPELLINGS, bandung_regions, region_aliases
from hub.synthetic.clock import REFERENCE_DATE
from hub.synthetic.identity import date_digits
from hub.synthetic.names import WordLists, full_name, street_address, word_lists
from hub.synthetic.people import FamilyMaker, FamilyRows
from hub.synthetic.places import build_city

DATA_YEAR = REFERENCE_DATE.year
_RELATIONSHIP_LABELS = {
    "HEAD": "KEPALA KELUARGA", "SPOUSE": "ISTRI", "CHILD": "ANAK", "PARENT": "ORANG TUA",
    "GRANDCHILD": "CUCU", "IN_LAW": "MENANTU", "OTHER": "FAMILI LAIN",
}  # fmt: skip
_BIRTH_PLACES = ("BANDUNG", "BANDUNG", "BANDUNG", "CIMAHI", "GARUT", "TASIKMALAYA", "SUMEDANG",
                 "CIANJUR", "SUBANG", "JAKARTA")  # fmt: skip
_NEW_SPELLING = {new: old for old, new in OLD_SPELLINGS.items()}
#: Defects that make the importer refuse the row (and its household).
REFUSED_DEFECTS = ("BAD_NIK_DATE", "DUPLICATE_NIK", "MISSING_RT", "OUTSIDE_CITY")
#: Defects the importer repairs: a misspelt kelurahan, resolved by the fuzzy match.
ACCEPTED_DEFECTS = ("MISSPELT_KELURAHAN",)


@dataclass
class ExportSummary:
    """What an export holds: rows, households, and which lines carry which defect."""

    rows: int = 0
    households: int = 0
    #: Defect -> line numbers (1 = header) of the rows carrying it.
    defects: dict[str, list[int]] = field(default_factory=dict)
    #: Lines of rows in a household with a refused defect (the defective row included).
    refused_household_lines: list[int] = field(default_factory=list)
    #: Misspelt kelurahan text -> the kelurahan code it stands for.
    misspellings: dict[str, str] = field(default_factory=dict)

    def lines(self, defect: str) -> list[int]:
        """The lines carrying `defect`."""
        return self.defects.get(defect, [])


def _misspell(rng: Random, writer: _Writer, kel_code: str, kec_code: str) -> str | None:
    """The kelurahan's name with one letter dropped, if only the fuzzy match finds it."""
    name = writer.kelurahan_names[kel_code]
    letters = [i for i, ch in enumerate(name) if ch.isalpha()]
    if len(letters) < 8:
        return None
    at = rng.choice(letters[1:-1])
    wrong = (name[:at] + name[at + 1 :]).upper()
    return wrong if writer.resolver.fuzzy_kelurahan(kec_code, wrong) == kel_code else None


class _Writer:
    """Turns generated families into export rows."""

    def __init__(self, rng: Random, lists: WordLists, kecamatan_names: dict[str, str]) -> None:
        self.rng = rng
        self.lists = lists
        self.kecamatan_names = kecamatan_names
        regions = bandung_regions()
        self.kelurahan_names = {r.code: r.name for r in regions if r.level == "KELURAHAN"}
        self.resolver = RegionResolver(
            [(r.code, r.level, r.name, r.parent_code) for r in regions], region_aliases(regions)
        )

    def kecamatan_text(self, code: str) -> str:
        """The kecamatan as exports write it: upper case, sometimes `Kec. …`."""
        name = self.kecamatan_names[code]
        roll = self.rng.random()
        if roll < 0.15:
            return f"Kec. {name}"
        if roll < 0.25:
            return name
        return name.upper()

    def kelurahan_text(self, code: str) -> str:
        """The kelurahan as exports write it: upper case, often in the 2022 spelling."""
        name = self.kelurahan_names[code]
        if name in _NEW_SPELLING and self.rng.random() < 0.7:
            name = _NEW_SPELLING[name]
        return name if self.rng.random() < 0.2 else name.upper()


def _family_rows(
    writer: _Writer, household: tuple[object, ...], citizens: list[tuple[object, ...]]
) -> list[list[str]]:
    """The export rows of one household (head first)."""
    rng = writer.rng
    _id, kk, dtks_id, address, rt, rw, kel_code, kec_code, decile = household[:9]
    kecamatan = writer.kecamatan_text(str(kec_code))
    kelurahan = writer.kelurahan_text(str(kel_code))
    rt_text = str(rt) if rng.random() < 0.5 else str(int(str(rt)))
    rw_text = str(rw) if rng.random() < 0.5 else str(int(str(rw)))
    mother = full_name(rng, writer.lists, female=True).upper()  # of the head, for brevity
    rows = []
    for c in citizens:
        nik, name, birth, sex, relationship, disabled = c[1], c[2], c[3], c[4], c[6], c[7]
        assert isinstance(birth, dt.date)
        age = REFERENCE_DATE.year - birth.year
        if disabled:
            pmks = "PENYANDANG DISABILITAS"
        elif age >= 60 and rng.random() < 0.3:
            pmks = "LANJUT USIA TERLANTAR"
        elif isinstance(decile, int) and decile <= 4:
            pmks = "FAKIR MISKIN"
        else:
            pmks = ""
        label = _RELATIONSHIP_LABELS[str(relationship)]
        if relationship == "SPOUSE" and sex == "M":
            label = "SUAMI"
        rows.append(
            [str(dtks_id), "JAWA BARAT", "KOTA BANDUNG", kecamatan, kelurahan, str(address), "",
             rt_text, rw_text, str(kk), str(nik), str(name).upper(), birth.isoformat(),
             rng.choice(_BIRTH_PLACES), "PEREMPUAN" if sex == "F" else "LAKI-LAKI",
             mother,
             label, str(DATA_YEAR), pmks]
        )  # fmt: skip
    return rows


_I = {name: i for i, name in enumerate(COLUMNS)}


def _spoil(
    rng: Random,
    writer: _Writer,
    rows: list[list[str]],
    seen: list[str] | None,
    places: tuple[str, str],
) -> tuple[str, int] | None:
    """Give one row of a family one defect; return (defect, index of the row, -1 for all)."""
    defect = rng.choice((*REFUSED_DEFECTS, "MISSPELT_KELURAHAN", "MISSPELT_KELURAHAN"))
    at = rng.randrange(len(rows))
    row = rows[at]
    if defect == "MISSPELT_KELURAHAN":
        wrong = _misspell(rng, writer, *places)
        if wrong is None:
            return None
        for r in rows:  # the whole household lives in the same kelurahan
            r[_I["desa_kelurahan"]] = wrong
        return defect, -1
    if defect == "BAD_NIK_DATE":
        nik = row[_I["nomor_nik"]]
        birth = dt.date.fromisoformat(row[_I["tanggal_lahir"]])
        shifted = birth + dt.timedelta(days=rng.choice((-3, -1, 1, 2, 30)))
        female = row[_I["jenis_kelamin"]] == "PEREMPUAN"
        row[_I["nomor_nik"]] = nik[:6] + date_digits(shifted, female=female) + nik[12:]
    elif defect == "DUPLICATE_NIK":
        if seen is None:
            return None
        # The same person listed again in another family: the person's own columns copied.
        for column in ("nomor_nik", "nama", "tanggal_lahir", "tempat_lahir", "jenis_kelamin"):
            row[_I[column]] = seen[_I[column]]
    elif defect == "MISSING_RT":
        row[_I["rt"]] = ""
    else:  # OUTSIDE_CITY
        row[_I["kabupaten_kota"]] = "KABUPATEN BANDUNG"
    return defect, at


def write_export(path: Path, *, citizens: int, seed: int = 1, dirty: float = 0.01) -> ExportSummary:
    """Write a pipe-separated PMKS export of `citizens` synthetic residents to `path`.

    A share `dirty` of families carries one defect each. A duplicated NIK lists someone of an
    earlier household again, so the first listing is kept and the later one refused.
    Unless it is a duplicate, every NIK appears once.
    """
    rng = Random(seed)
    city = build_city(rng)
    lists = word_lists()
    maker = FamilyMaker(rng, city, lists)
    writer = _Writer(Random(seed + 1), lists, city.kecamatan_names)

    def families() -> Iterator[_Family]:
        made = 0
        family_id = citizen_id = 1
        while made < citizens:
            rows = FamilyRows([], [], [])
            family = maker.make(family_id, citizen_id, citizens - made, rows)
            household = rows.households[0]
            places = (str(household[6]), str(household[7]))
            yield _family_rows(writer, household, rows.citizens), places
            made += len(family.members)
            family_id += 1
            citizen_id += len(family.members)

    return _write(path, families(), writer, Random(seed + 2), dirty)


#: A family's export rows and its (kelurahan code, kecamatan code).
_Family = tuple[list[list[str]], tuple[str, str]]


def _write(
    path: Path, families: Iterator[_Family], writer: _Writer, spoiler: Random, dirty: float
) -> ExportSummary:
    """Write the export rows of `families`, a share `dirty` of them spoilt by `spoiler`."""
    summary = ExportSummary()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as out:
        sink = csv.writer(out, delimiter="|", lineterminator="\n")
        sink.writerow(COLUMNS)
        line = 1
        earlier: list[str] | None = None
        for lines, places in families:
            spoilt = None
            if spoiler.random() < dirty:
                spoilt = _spoil(spoiler, writer, lines, earlier, places)
            if spoilt is None or spoilt[0] not in REFUSED_DEFECTS:
                earlier = list(lines[-1])
            sink.writerows(lines)
            if spoilt is not None:
                defect, at = spoilt
                first = line + 1
                if at >= 0:
                    summary.defects.setdefault(defect, []).append(first + at)
                    summary.refused_household_lines.extend(range(first, first + len(lines)))
                else:
                    summary.defects.setdefault(defect, []).extend(range(first, first + len(lines)))
                    summary.misspellings[lines[0][_I["desa_kelurahan"]]] = places[0]
            line += len(lines)
            summary.rows += len(lines)
            summary.households += 1
    return summary


async def write_registry_export(
    url: str, path: Path, *, households: int, seed: int = 1, dirty: float = 0.01
) -> ExportSummary:
    """Write the first `households` DTKS households of the registry at `url` (by id) as a
    PMKS export, a share `dirty` of families spoilt as `write_export` spoils them.

    Every value comes from the registry as it is (names in their own case, the citizen's
    PPKS type), so that importing the file changes nothing but what a file always changes
    (the records become DTKS-listed), and importing it again changes nothing at all. The
    demo's sample (`partners/samples/`) is this export of the city `hub demo` seeds.
    """
    from sqlalchemy import select

    from hub.db import create_engine
    from hub.registry.models import Citizen, Household

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            chosen = (
                await connection.execute(
                    select(Household)
                    .where(Household.dtks_id.is_not(None))
                    .order_by(Household.id)
                    .limit(households)
                )
            ).all()
            ids = [h.id for h in chosen]
            members: dict[int, list[Any]] = {i: [] for i in ids}
            head_first = Citizen.relationship != "HEAD"
            for citizen in await connection.execute(
                select(Citizen)
                .where(Citizen.household_id.in_(ids))
                .order_by(Citizen.household_id, head_first, Citizen.id)
            ):
                members[citizen.household_id].append(citizen)
    finally:
        await engine.dispose()
    regions = bandung_regions()
    kecamatan_names = {r.code: r.name for r in regions if r.level == "KECAMATAN"}
    writer = _Writer(Random(seed + 1), word_lists(), kecamatan_names)
    families = (
        (_registry_rows(writer, h, members[h.id]), (h.kelurahan_code, h.kecamatan_code))
        for h in chosen
        if members[h.id]
    )
    return _write(path, families, writer, Random(seed + 2), dirty)


_PPKS_LABELS = {code: label.upper() for code, label, _ in PPKS_TYPES}


def _registry_rows(writer: _Writer, household: Any, citizens: list[Any]) -> list[list[str]]:
    """The export rows of a registry household and its members, as the registry has them."""
    rng = writer.rng
    kecamatan = writer.kecamatan_text(household.kecamatan_code)
    kelurahan = writer.kelurahan_text(household.kelurahan_code)
    mother = full_name(rng, writer.lists, female=True).upper()
    rows = []
    for c in citizens:
        label = _RELATIONSHIP_LABELS[c.relationship]
        if c.relationship == "SPOUSE" and c.sex == "M":
            label = "SUAMI"
        rows.append(
            [household.dtks_id, "JAWA BARAT", "KOTA BANDUNG", kecamatan, kelurahan,
             household.address, "", household.rt, household.rw, household.kk_number, c.nik,
             c.full_name, c.birth_date.isoformat(), rng.choice(_BIRTH_PLACES),
             "PEREMPUAN" if c.sex == "F" else "LAKI-LAKI", mother, label, str(DATA_YEAR),
             _PPKS_LABELS.get(c.ppks_code or "", "")]
        )  # fmt: skip
    return rows


#: The sample in `partners/samples/`: the demo city's first households, 12 % dirty, and the
#: month after at 15 % changed (rather than 2 %, so that 200 rows show every kind of change).
SAMPLE_FILES = ("dtks-pmks-2026-11.txt", "dtks-pmks-2026-12.txt")


async def write_demo_samples(url: str, folder: Path) -> tuple[ExportSummary, NextMonthSummary]:
    """Write `SAMPLE_FILES` into `folder` from the registry at `url` (the city `hub demo`
    seeds: `seed_city(url, citizens=3000, seed=1)`)."""
    first, second = (folder / name for name in SAMPLE_FILES)
    export = await write_registry_export(url, first, households=70, seed=10, dirty=0.12)
    month = write_next_month(
        first, second, seed=17, change=0.15, untouched=export.refused_household_lines
    )
    return export, month


@dataclass
class NextMonthSummary:
    """What changed between an export and the next month's."""

    rows: int = 0
    changes: Counter[str] = field(default_factory=Counter)
    #: NIK -> (IDDTKS left, IDDTKS joined) of members who moved to another household.
    moved: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: NIKs no longer listed; NIKs listed for the first time.
    delisted: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    #: IDDTKS of households whose address changed; of those given a new KK number.
    readdressed: list[str] = field(default_factory=list)
    rekeyed: list[str] = field(default_factory=list)


def _households(path: Path) -> Iterator[tuple[int, list[list[str]]]]:
    """(line of the first row, rows) of each run of rows with one IDDTKS (header skipped)."""
    with path.open(newline="", encoding="utf-8") as source:
        reader = csv.reader(source, delimiter="|")
        next(reader)
        group: list[list[str]] = []
        first = line = 2
        for row in reader:
            if group and row[0] != group[0][0]:
                yield first, group
                group, first = [], line
            group.append(row)
            line += 1
        if group:
            yield first, group


def _niks_on(path: Path, lines: Collection[int]) -> set[str]:
    """The NIKs of the rows of `path` on `lines`."""
    if not lines:
        return set()
    niks = set()
    for first, rows in _households(path):
        for line, row in enumerate(rows, start=first):
            if line in lines:
                niks.add(row[_I["nomor_nik"]])
    return niks


def _number(serials: dict[str, int], prefix: str) -> str:
    """A new NIK or KK number with this 12-digit prefix: serials from 9001, which the
    synthetic city never reaches, so that no number is issued twice."""
    serial = serials[prefix] = serials.get(prefix, 9000) + 1
    if serial > 9999:
        raise ValueError(f"more than 999 new numbers with the prefix {prefix}")
    return f"{prefix}{serial:04d}"


def write_next_month(
    source: Path,
    target: Path,
    *,
    seed: int = 2,
    change: float = 0.02,
    untouched: Collection[int] = (),
) -> NextMonthSummary:
    """Write next month's export of `source` to `target`, about `change` of its rows changed.

    Per household, at rates that add up to about `change` of the rows: the family moves
    house (new address and RT), a member is no longer listed, the whole family is no longer
    listed, a baby is born, a member moves into another family's KK, the family is issued a
    new KK number, or a grown child starts a household of their own (a new IDDTKS and KK).
    Households with a row on one of the `untouched` lines (those refused for a defect) are
    copied as they are, and so are the households whose members they list again: were the
    first listing of a NIK to go, its repetition would be the only one, and the household
    refused for it would be imported after all.
    """
    keep = set(untouched)
    listed_again = _niks_on(source, keep)
    rng = Random(seed)
    lists = word_lists()
    summary = NextMonthSummary()
    scale = change / 0.02
    mover: list[str] | None = None
    serials: dict[str, int] = {}
    splits = 0
    issued = REFERENCE_DATE + dt.timedelta(days=10)
    with target.open("w", newline="", encoding="utf-8") as out:
        sink = csv.writer(out, delimiter="|", lineterminator="\n")
        sink.writerow(COLUMNS)

        def emit(rows: list[list[str]]) -> None:
            sink.writerows(rows)
            summary.rows += len(rows)

        for first, rows in _households(source):
            if keep and (
                any(n in keep for n in range(first, first + len(rows)))
                or any(r[_I["nomor_nik"]] in listed_again for r in rows)
            ):
                emit(rows)
                continue
            if mover is not None:
                moved = [*rows[0][:9], *mover[9:]]
                moved[_I["nomor_kk"]] = rows[0][_I["nomor_kk"]]
                moved[_I["hubungan_keluarga"]] = "FAMILI LAIN"
                rows = [*rows, moved]
                summary.moved[mover[_I["nomor_nik"]]] = (mover[0], rows[0][0])
                summary.changes["moved"] += 1
                mover = None
                emit(rows)  # a family taking someone in changes nothing else this month
                continue
            roll = rng.random() / scale
            if roll < 0.003:
                summary.delisted.extend(r[_I["nomor_nik"]] for r in rows)
                summary.changes["household_delisted"] += 1
                continue
            others = [r for r in rows if r[_I["hubungan_keluarga"]] != "KEPALA KELUARGA"]
            if roll < 0.011:
                address = street_address(rng, lists)
                rt = f"{rng.randint(1, 15):03d}"
                for r in rows:
                    r[_I["alamat"]], r[_I["rt"]] = address, rt
                summary.readdressed.append(rows[0][0])
                summary.changes["readdressed"] += 1
            elif roll < 0.014 and others:
                gone = rng.choice(others)
                rows.remove(gone)
                summary.delisted.append(gone[_I["nomor_nik"]])
                summary.changes["member_delisted"] += 1
            elif roll < 0.018:
                baby = list(rows[0])
                born = REFERENCE_DATE + dt.timedelta(days=rng.randint(1, 20))
                female = rng.random() < 0.5
                baby[_I["nomor_nik"]] = _number(
                    serials, rows[0][_I["nomor_kk"]][:6] + date_digits(born, female=female)
                )
                baby[_I["nama"]] = full_name(rng, lists, female=female).upper()
                baby[_I["tanggal_lahir"]] = born.isoformat()
                baby[_I["jenis_kelamin"]] = "PEREMPUAN" if female else "LAKI-LAKI"
                baby[_I["hubungan_keluarga"]] = "ANAK"
                rows.append(baby)
                summary.new.append(baby[_I["nomor_nik"]])
                summary.changes["born"] += 1
            elif roll < 0.021 and others and mover is None:
                mover = rng.choice(others)
                rows.remove(mover)
            elif roll < 0.025:
                kk = _number(serials, rows[0][_I["nomor_kk"]][:6] + date_digits(issued))
                for r in rows:
                    r[_I["nomor_kk"]] = kk
                summary.rekeyed.append(rows[0][0])
                summary.changes["new_kk_number"] += 1
            elif roll < 0.027 and others:
                leaving = rng.choice(others)
                rows.remove(leaving)
                splits += 1
                household = list(leaving)
                household[0] = f"{leaving[0]}S{splits}"[:32]
                household[_I["nomor_kk"]] = _number(
                    serials, leaving[_I["nomor_kk"]][:6] + date_digits(issued)
                )
                household[_I["alamat"]] = street_address(rng, lists)
                household[_I["hubungan_keluarga"]] = "KEPALA KELUARGA"
                emit(rows)
                emit([household])
                summary.moved[leaving[_I["nomor_nik"]]] = (leaving[0], household[0])
                summary.changes["split"] += 1
                continue
            emit(rows)
        if mover is not None:
            summary.delisted.append(mover[_I["nomor_nik"]])
    return summary
