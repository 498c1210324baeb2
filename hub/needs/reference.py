"""The fixed need taxonomy: service domains and the 26 PPKS types (Permensos 5/2019)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.needs.models import NeedCategory

#: (code, Indonesian label, English label)
SERVICE_DOMAINS: tuple[tuple[str, str, str], ...] = (
    ("REHABILITATION", "Rehabilitasi Sosial", "Social rehabilitation"),
    ("PROTECTION", "Perlindungan Sosial", "Social protection"),
    ("EDUCATION", "Jaminan Sosial: Pendidikan", "Social security: education"),
    ("FOOD", "Jaminan Sosial: Pangan", "Social security: food"),
    ("HEALTH", "Jaminan Sosial: Kesehatan", "Social security: health"),
    ("EMPOWERMENT", "Pemberdayaan Sosial", "Social empowerment"),
    ("HOUSING", "Perumahan (Rutilahu)", "Housing"),
    ("CIVIL_DOCUMENTS", "Dokumen Kependudukan", "Civil registration documents"),
)

PPKS_TYPES: tuple[tuple[str, str, str], ...] = (
    ("PPKS_ANAK_BALITA_TERLANTAR", "Anak Balita Terlantar", "Neglected toddler"),
    ("PPKS_ANAK_TERLANTAR", "Anak Terlantar", "Neglected child"),
    (
        "PPKS_ANAK_BERHADAPAN_HUKUM",
        "Anak yang Berhadapan dengan Hukum",
        "Child in conflict with the law",
    ),
    ("PPKS_ANAK_JALANAN", "Anak Jalanan", "Street child"),
    ("PPKS_ANAK_DISABILITAS", "Anak dengan Kedisabilitasan", "Child with disability"),
    (
        "PPKS_ANAK_KORBAN_KEKERASAN",
        "Anak yang Menjadi Korban Tindak Kekerasan atau Diperlakukan Salah",
        "Child victim of violence or mistreatment",
    ),
    (
        "PPKS_ANAK_PERLINDUNGAN_KHUSUS",
        "Anak yang Memerlukan Perlindungan Khusus",
        "Child in need of special protection",
    ),
    ("PPKS_LANSIA_TERLANTAR", "Lanjut Usia Terlantar", "Neglected elderly person"),
    ("PPKS_PENYANDANG_DISABILITAS", "Penyandang Disabilitas", "Person with disability"),
    ("PPKS_TUNA_SUSILA", "Tuna Susila", "Person in prostitution"),
    ("PPKS_GELANDANGAN", "Gelandangan", "Homeless person"),
    ("PPKS_PENGEMIS", "Pengemis", "Beggar"),
    ("PPKS_PEMULUNG", "Pemulung", "Waste picker"),
    ("PPKS_KELOMPOK_MINORITAS", "Kelompok Minoritas", "Minority group"),
    (
        "PPKS_BEKAS_WARGA_BINAAN",
        "Bekas Warga Binaan Lembaga Pemasyarakatan",
        "Former prison inmate",
    ),
    ("PPKS_ODHA", "Orang dengan HIV/AIDS", "Person living with HIV/AIDS"),
    ("PPKS_KORBAN_NAPZA", "Korban Penyalahgunaan NAPZA", "Victim of substance abuse"),
    ("PPKS_KORBAN_TRAFFICKING", "Korban Perdagangan Orang", "Victim of trafficking"),
    ("PPKS_KORBAN_KEKERASAN", "Korban Tindak Kekerasan", "Victim of violence"),
    (
        "PPKS_PEKERJA_MIGRAN_BERMASALAH",
        "Pekerja Migran Bermasalah Sosial",
        "Migrant worker with social problems",
    ),
    ("PPKS_KORBAN_BENCANA_ALAM", "Korban Bencana Alam", "Victim of natural disaster"),
    ("PPKS_KORBAN_BENCANA_SOSIAL", "Korban Bencana Sosial", "Victim of social disaster"),
    (
        "PPKS_PEREMPUAN_RAWAN_SOSEK",
        "Perempuan Rawan Sosial Ekonomi",
        "Socio-economically vulnerable woman",
    ),
    ("PPKS_FAKIR_MISKIN", "Fakir Miskin", "Person in poverty"),
    (
        "PPKS_KELUARGA_BERMASALAH_PSIKOLOGIS",
        "Keluarga Bermasalah Sosial Psikologis",
        "Family with psycho-social problems",
    ),
    ("PPKS_KOMUNITAS_ADAT_TERPENCIL", "Komunitas Adat Terpencil", "Remote indigenous community"),
)


def all_categories() -> list[NeedCategory]:
    """Every category as an unsaved row, service domains first."""
    rows = [
        NeedCategory(code=c, kind="SERVICE_DOMAIN", label_id=i, label_en=e, position=n)
        for n, (c, i, e) in enumerate(SERVICE_DOMAINS, start=1)
    ]
    rows += [
        NeedCategory(code=c, kind="PPKS", label_id=i, label_en=e, position=n)
        for n, (c, i, e) in enumerate(PPKS_TYPES, start=1)
    ]
    return rows


async def load(session: AsyncSession) -> int:
    """Insert the categories that are missing; return how many were added."""
    existing = set((await session.scalars(select(NeedCategory.code))).all())
    missing = [c for c in all_categories() if c.code not in existing]
    session.add_all(missing)
    await session.flush()
    return len(missing)
