"""Kota Bandung's regions from the shipped Kemendagri list, and the alias table."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from importlib import resources

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.regions.models import Region, RegionAlias

CITY_CODE = "32.73"
CITY_NAME = "Kota Bandung"

#: Spellings of earlier decrees (2022) and common DTKS free text, mapped to 2025 names.
OLD_SPELLINGS = {
    "Lebakgede": "Lebak Gede",
    "Sadangserang": "Sadang Serang",
    "Husen Sastranegara": "Husein Sastranegara",
    "Tamansari": "Taman Sari",
    "Astana Anyar": "Astanaanyar",
    "Munjahlega": "Manjahlega",
}


@dataclass(frozen=True, slots=True)
class RegionRow:
    """One region as read from the reference list."""

    code: str
    level: str
    name: str
    parent_code: str | None


def normalise_name(name: str) -> str:
    """The alias key of a region name: lower case, letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def bandung_regions() -> list[RegionRow]:
    """The city, its 30 kecamatan and 151 kelurahan, parents before children."""
    text = resources.files("hub.regions").joinpath("data/bandung_wilayah.csv").read_text("utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    city = RegionRow(CITY_CODE, "CITY", CITY_NAME, None)
    kecamatan: dict[str, RegionRow] = {}
    kelurahan: list[RegionRow] = []
    for row in rows:
        code = row["kode"]
        kec_code = code.rsplit(".", 1)[0]
        kecamatan.setdefault(
            kec_code, RegionRow(kec_code, "KECAMATAN", row["kecamatan"], CITY_CODE)
        )
        kelurahan.append(RegionRow(code, "KELURAHAN", row["kelurahan"], kec_code))
    return [city, *sorted(kecamatan.values(), key=lambda r: r.code), *kelurahan]


def region_aliases(regions: list[RegionRow]) -> list[tuple[str, str]]:
    """(alias, region code) pairs: every official name and every known older spelling."""
    by_name = {(r.level, r.name): r.code for r in regions}
    pairs = {(normalise_name(r.name), r.code) for r in regions}
    for old, new in OLD_SPELLINGS.items():
        for level in ("KECAMATAN", "KELURAHAN"):
            code = by_name.get((level, new))
            if code:
                pairs.add((normalise_name(old), code))
    return sorted(pairs)


async def load(session: AsyncSession) -> int:
    """Insert the regions and aliases that are missing; return how many regions were added."""
    regions = bandung_regions()
    existing = set((await session.scalars(select(Region.code))).all())
    missing = [r for r in regions if r.code not in existing]
    session.add_all(
        Region(code=r.code, level=r.level, name=r.name, parent_code=r.parent_code) for r in missing
    )
    # Parents must exist before children reference them.
    await session.flush()
    known = set((await session.execute(select(RegionAlias.alias, RegionAlias.region_code))).all())
    session.add_all(
        RegionAlias(alias=a, region_code=c)
        for a, c in region_aliases(regions)
        if (a, c) not in known
    )
    await session.flush()
    return len(missing)
