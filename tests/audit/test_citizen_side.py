"""One citizen's report after an agency read, a foundation's delivery and a tracking lookup.

Set `HUB_CITIZEN_REPORT_PDF=path` to keep the PDF (docs/citizen-report.png is made from it).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from hub.audit.report import build_report, find_citizen, to_markdown
from hub.audit.report_pdf import to_pdf
from hub.db import create_engine, session_factory
from hub.graphql.relay import to_global_id
from tests.needs.test_tracking import public, reported_need, track
from tests.support import documents as doc
from tests.support.api import Api

PROFILE = """query($nik: NIK!) { citizen(nik: $nik) { fullName nik phone
  household { kkNumber address rt rw } } }"""
DELIVERY = """query($id: ID!) { node(id: $id) { ... on Need { id
  citizen { fullName phone household { address rt rw } } } } }"""


async def _report(api: Api, nik: str) -> tuple[str, bytes]:
    engine = create_engine(str(api.app.state.settings.database_url))
    try:
        async with session_factory(engine)() as session:
            assert isinstance(session, AsyncSession)
            subject = await find_citizen(session, nik=nik)
            assert subject is not None
            made = await build_report(
                session, subject=subject, generated_at=dt.datetime.now(dt.UTC)
            )
    finally:
        await engine.dispose()
    return to_markdown(made), to_pdf(made)


async def test_the_report_shows_every_read_grouped_by_organisation_and_purpose(
    fresh_city: Api,
) -> None:
    need_id, code, person = await reported_need(fresh_city)
    nik = person["nik"]
    # An agency checks the person's eligibility, family card included.
    opd = fresh_city.as_("opd_officer", purpose="ELIGIBILITY_CHECK")
    await opd.data(PROFILE, {"nik": nik})
    # Dinsos verifies; the foundation pledges, reads where to deliver, delivers, closes.
    await fresh_city.as_("dinsos_admin").data(doc.VERIFY, {"id": need_id})
    lks = fresh_city.as_("lks_partner", purpose="SERVICE_DELIVERY")
    assert (await lks.data(doc.PLEDGE, {"id": need_id}))["pledgeNeed"]["errors"] == []
    delivery = (await lks.data(DELIVERY, {"id": need_id}))["node"]["citizen"]
    assert delivery["household"]["address"] == person["address"]
    recorded = await lks.data(
        doc.RECORD,
        {
            "input": {
                "citizen": to_global_id("Citizen", person["id"]),
                "need": need_id,
                "category": person["category_code"],
                "kind": "IN_KIND",
                "amount": 1_250_000,
                "quantity": 1,
                "unit": "kursi roda",
                "deliveredOn": dt.date.today().isoformat(),
                "idempotencyKey": "citizen-side-1",
            }
        },
    )
    assert recorded["recordContribution"]["contribution"], recorded
    await lks.data(doc.CLOSE, {"id": need_id, "outcome": "FULFILLED"})
    # The citizen follows the request by its code.
    async with public(fresh_city, "10.1.1.1") as citizen:
        assert (await track(citizen, code)).json()["data"]["trackRequest"]["status"] == "FULFILLED"

    groups = (
        await fresh_city.as_("auditor", purpose="AUDIT").data(
            "query($nik: NIK!) { accessSummary(nik: $nik) { organizationCode public purpose "
            "count fields } }",
            {"nik": nik},
        )
    )["accessSummary"]
    by_purpose = {(g["organizationCode"], g["purpose"]): g for g in groups}
    assert "Household.kkNumber" in by_purpose[("DINKES", "ELIGIBILITY_CHECK")]["fields"]
    foundation = lks.identity.organization_code
    assert "Household.address" in by_purpose[(foundation, "SERVICE_DELIVERY")]["fields"]
    lookups = next(g for g in groups if g["public"])
    assert lookups["fields"] == ["Need.tracking"] and lookups["count"] == 1

    text, pdf = await _report(fresh_city, nik)
    trail = text.split("## 6.")[1].split("## 7.")[0]
    summary = text.split("## 7. Ringkasan per organisasi dan tujuan")[1].split("## 8.")[0]
    # The agency's read of the family card, and the foundation's of the address.
    assert "Pemeriksaan kelayakan" in summary and "nomor KK" in summary
    assert "Pemberian layanan" in summary and "alamat" in summary
    # The tracking lookup, as the public's.
    assert "Publik (kode pelacakan)" in summary and "status permintaan" in summary
    assert "Dinas Kesehatan" in trail or "DINKES" in trail
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000
    keep = os.environ.get("HUB_CITIZEN_REPORT_PDF")
    if keep:
        Path(keep).write_bytes(pdf)  # noqa: ASYNC240  (a few kB, once, on request)
