"""The national and city programmes the hub knows from the start."""

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
)


async def load(session: AsyncSession) -> int:
    """Insert the programmes that are missing; return how many were added."""
    existing = set((await session.scalars(select(Program.code))).all())
    missing = [
        Program(code=c, name=n, agency_code=a, category_code=k, description=d)
        for c, n, a, k, d in PROGRAMS
        if c not in existing
    ]
    session.add_all(missing)
    await session.flush()
    return len(missing)
