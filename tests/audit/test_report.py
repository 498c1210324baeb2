"""The citizen's UU PDP art. 32 report: their data and its trail, in Indonesian."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from hub.audit.checkpoints import Sealer
from hub.audit.events import CitizenAccess
from hub.audit.queries import integrity_status
from hub.audit.recorder import append
from hub.audit.report import citizen_report, find_citizen, rupiah, tanggal, waktu
from hub.contributions.models import Contribution
from hub.db import create_engine, session_factory, transaction
from hub.registry.models import Citizen
from tests.audit.conftest import make_event


def test_indonesian_formats() -> None:
    assert tanggal(dt.date(2026, 3, 7)) == "7 Maret 2026"
    assert waktu(dt.datetime(2026, 3, 7, 7, 5, tzinfo=dt.UTC)) == "7 Maret 2026 14.05 WIB"
    assert rupiah(1_500_000) == "Rp1.500.000"


async def test_report_holds_the_data_and_the_trail(
    fresh_city_database_url: str, sealer: Sealer
) -> None:
    engine = create_engine(fresh_city_database_url)
    try:
        sessions = session_factory(engine)
        async with transaction(sessions) as session:
            # A citizen who received help, so every section has something to show.
            citizen_id = await session.scalar(select(Contribution.citizen_id).limit(1))
            citizen = await session.get(Citizen, citizen_id)
            assert citizen is not None
            other = await session.scalar(
                select(Citizen.id).where(Citizen.id != citizen.id).limit(1)
            )
            await append(
                session,
                [
                    make_event(1, organization_code="DINKES", citizens=[citizen.id]),
                    make_event(2, organization_code="DINKES", citizens=[other or 0]),
                    make_event(
                        3, organization_code="DINSOS", purpose="VERIFICATION", citizens=[citizen.id]
                    ),
                ],
                sealer=sealer,
            )
        async with transaction(sessions) as session:
            subject = await find_citizen(session, nik=citizen.nik)
            assert subject is not None
            status = await integrity_status(
                session, verifiers=sealer.verifiers, origin=sealer.origin
            )
            text = await citizen_report(
                session, subject=subject, generated_at=dt.datetime(2026, 3, 7, 7, 5, tzinfo=dt.UTC),
                integrity=status,
            )  # fmt: skip
            assert await find_citizen(session, nik="0" * 16) is None
    finally:
        await engine.dispose()
    assert text.startswith("# Laporan Data Pribadi dan Rekam Jejak Pemrosesan")
    assert "Pasal 32" in text and "Nomor 27 Tahun 2022" in text
    assert f"| NIK | {citizen.nik} |" in text and citizen.full_name in text
    assert "## 2. Data keluarga (Kartu Keluarga)" in text and "Kelurahan" in text
    section = text.split("## 5. Bantuan yang diterima")[1].split("## 6.")[0]
    assert "| Tanggal | Pemberi |" in section and "Tidak ada bantuan" not in section
    assert "Data pribadi Anda diakses 2 kali" in text
    assert "Verifikasi data" in text and "Pemberian layanan" in text
    assert "nama lengkap, NIK" in text
    assert "hasil: utuh" in text
    assert "Dibuat: 7 Maret 2026 14.05 WIB" in text


def test_citizen_access_is_normalised() -> None:
    event = make_event(1)
    assert event.citizens == ()
    merged = type(event)(
        occurred_at=event.occurred_at,
        decision="ALLOWED",
        citizens=(
            CitizenAccess(2, ("nik",)),
            CitizenAccess(1, ("b", "a")),
            CitizenAccess(2, ("age", "nik")),
        ),
    )
    assert merged.citizens == (CitizenAccess(1, ("a", "b")), CitizenAccess(2, ("age", "nik")))
