"""The national, provincial, city and foundation programmes the hub knows from the start.

Budgets are each programme's yearly allocation for Kota Bandung, in whole rupiah
(illustrative figures of the right order, not published ones); a foundation programme has
no budget of its own: what partners give is counted from their contributions.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.programs.models import Program

#: (code, name, agency, need category, description)
PROGRAMS: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "PKH",
        "Program Keluarga Harapan",
        "DINSOS",
        "FOOD",
        "Conditional cash transfer to poor families with pregnant women, children, elderly "
        "or disabled members.",
    ),
    (
        "BPNT",
        "Bantuan Pangan Non Tunai (Sembako)",
        "DINSOS",
        "FOOD",
        "Monthly food assistance on an electronic card.",
    ),
    (
        "PBI_JK",
        "Penerima Bantuan Iuran Jaminan Kesehatan",
        "DINKES",
        "HEALTH",
        "National health insurance (JKN) contributions paid by the state.",
    ),
    (
        "PIP",
        "Program Indonesia Pintar (KIP)",
        "DISDIK",
        "EDUCATION",
        "Cash for school costs of children from poor families.",
    ),
    (
        "RUTILAHU",
        "Rehabilitasi Rumah Tidak Layak Huni",
        "DISPERKIM",
        "HOUSING",
        "Repair of uninhabitable houses.",
    ),
    (
        "ATENSI",
        "Asistensi Rehabilitasi Sosial",
        "DINSOS",
        "REHABILITATION",
        "Social rehabilitation assistance for children, elderly, persons with disabilities "
        "and other PPKS.",
    ),
    (
        "PBI_APBD",
        "Penerima Bantuan Iuran Jaminan Kesehatan APBD Kota Bandung",
        "DINKES",
        "HEALTH",
        "JKN contributions paid by the city for residents outside the national quota.",
    ),
    (
        "BANSOS_JABAR",
        "Bantuan Sosial Pangan Provinsi Jawa Barat",
        "DINSOS",
        "FOOD",
        "West Java's food assistance to poor households not reached by BPNT.",
    ),
    (
        "PENDAMPINGAN_LANSIA",
        "Pendampingan Lanjut Usia oleh LKS Mitra",
        "DINSOS",
        "REHABILITATION",
        "Home care and companionship of elderly residents by partner foundations (LKS).",
    ),
)

#: Funding source and yearly budget (Rp, null: none of its own) of each programme.
FUNDING: dict[str, tuple[str, int | None]] = {
    "PKH": ("APBN", 185_000_000_000),
    "BPNT": ("APBN", 220_000_000_000),
    "PBI_JK": ("APBN", 310_000_000_000),
    "PIP": ("APBN", 48_000_000_000),
    "RUTILAHU": ("APBD_KOTA", 42_000_000_000),
    "ATENSI": ("APBN", 12_000_000_000),
    "PBI_APBD": ("APBD_KOTA", 160_000_000_000),
    "BANSOS_JABAR": ("APBD_JABAR", 35_000_000_000),
    "PENDAMPINGAN_LANSIA": ("FOUNDATIONS", None),
}


async def load(session: AsyncSession) -> int:
    """Insert the programmes that are missing; return how many were added."""
    existing = set((await session.scalars(select(Program.code))).all())
    missing = [
        Program(
            code=c,
            name=n,
            agency_code=a,
            category_code=k,
            description=d,
            funding_source=FUNDING[c][0],
            budget_rupiah=FUNDING[c][1],
        )
        for c, n, a, k, d in PROGRAMS
        if c not in existing
    ]
    session.add_all(missing)
    await session.flush()
    return len(missing)
