"""The agencies and auditors every hub has from its first migration on."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.organizations.models import Organization, OrganizationCategory

#: (code, kind, name, service domains)
STANDING_ORGANIZATIONS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    (
        "DINSOS",
        "OPD",
        "Dinas Sosial Kota Bandung",
        ("REHABILITATION", "PROTECTION", "FOOD", "EMPOWERMENT"),
    ),
    ("DINKES", "OPD", "Dinas Kesehatan Kota Bandung", ("HEALTH",)),
    ("DISDIK", "OPD", "Dinas Pendidikan Kota Bandung", ("EDUCATION",)),
    (
        "DISDUKCAPIL",
        "OPD",
        "Dinas Kependudukan dan Pencatatan Sipil Kota Bandung",
        ("CIVIL_DOCUMENTS",),
    ),
    (
        "DP3A",
        "OPD",
        "Dinas Pemberdayaan Perempuan dan Perlindungan Anak Kota Bandung",
        ("PROTECTION",),
    ),
    (
        "DISPERKIM",
        "OPD",
        "Dinas Perumahan dan Kawasan Permukiman, Pertanahan dan Pertamanan Kota Bandung",
        ("HOUSING",),
    ),
    ("DISNAKER", "OPD", "Dinas Tenaga Kerja Kota Bandung", ("EMPOWERMENT",)),
    ("OMBUDSMAN-JABAR", "AUDITOR", "Ombudsman RI Perwakilan Jawa Barat", ()),
    ("INSPEKTORAT", "AUDITOR", "Inspektorat Kota Bandung", ()),
)


async def load(session: AsyncSession) -> int:
    """Insert the standing agencies and auditors that are missing; return how many."""
    existing = set((await session.scalars(select(Organization.code))).all())
    added = 0
    for code, kind, name, domains in STANDING_ORGANIZATIONS:
        if code in existing:
            continue
        org = Organization(code=code, kind=kind, name=name, status="ACTIVE")
        session.add(org)
        await session.flush()
        session.add_all(
            OrganizationCategory(organization_id=org.id, category_code=d) for d in domains
        )
        added += 1
    await session.flush()
    return added
