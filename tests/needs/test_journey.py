"""The whole journey of one need, through HTTP with real tokens, as the issue tells it.

An agency reports a need, Dinsos verifies it, two foundations race to pledge it, the winner
reads the delivery details, records its contribution twice under one idempotency key (one
record), closes the need, and the public stats show it. The loser never sees the person's
name, address or phone: not in a payload, not in a list, not by id.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
from typing import Any

from hub.localtime import local_date
from tests.support import documents as doc
from tests.support.api import Api
from tests.support.partners import Partner, database_url, onboard_foundation, sql

CATEGORY = "FOOD"


def _cell(stats: dict[str, Any], kecamatan: str) -> dict[str, Any]:
    cells = [
        c
        for c in stats["needs"]
        if c["kecamatanCode"] == kecamatan and c["categoryCode"] == CATEGORY
    ]
    return cells[0] if cells else {"open": 0, "pledged": 0, "fulfilled": 0}


class Witness:
    """Everything the losing foundation is shown, to prove it never saw the person."""

    def __init__(self, partner: Partner, secrets: list[str]) -> None:
        self.partner = partner
        self.secrets = [s for s in secrets if s]
        self.seen: list[str] = []

    async def query(self, document: str, variables: dict[str, Any] | None = None) -> Any:
        body = await self.partner.query(document, variables)
        self.check(body)
        return body

    def check(self, body: Any) -> None:
        text = json.dumps(body)
        self.seen.append(text)
        for secret in self.secrets:
            assert secret not in text, f"the loser saw {secret!r}"

    async def look(self, need_id: str, citizen_id: str) -> None:
        """Look for the person every way a foundation can: by need, by person, in the feed."""
        for document, variables in (
            (doc.NEED, {"id": need_id}),
            (doc.CITIZEN, {"id": citizen_id}),
            (doc.OPEN_NEEDS, {}),
        ):
            body = await self.query(document, variables)
            found = (body.get("data") or {}).get("node")
            if found and "citizen" in found:  # the need itself, while OPEN: masked
                citizen = found["citizen"]
                assert citizen["fullName"].endswith(".") and citizen["phone"] is None
                assert citizen["household"]["address"] is None


async def test_a_need_from_report_to_stats(fresh_city: Api) -> None:
    admin = fresh_city.as_("dinsos_admin")
    opd = fresh_city.as_("opd_officer", purpose="SERVICE_DELIVERY")
    auditor = fresh_city.as_("auditor", purpose=None)

    # The agency picks a person from the registry, with the details it may read in full.
    person = (
        await opd.data(
            "{ citizens(first: 1) { nodes { id fullName phone "
            "household { address kecamatan { code } } } } }"
        )
    )["citizens"]["nodes"][0]
    citizen_id, kecamatan = person["id"], person["household"]["kecamatan"]["code"]
    before = (await auditor.data(doc.STATS))["stats"]

    # Two foundations serving food in the person's kecamatan, onboarded with real secrets.
    a, b = [
        await onboard_foundation(admin, code, categories=[CATEGORY], kecamatan=[kecamatan])
        for code in ("LKS-JOURNEY-A", "LKS-JOURNEY-B")
    ]

    # 1. The agency reports the need.
    reported = (
        await opd.data(
            doc.REPORT,
            {
                "input": {
                    "citizen": citizen_id,
                    "category": CATEGORY,
                    "description": "Keluarga kehabisan bahan pangan setelah kepala keluarga sakit.",
                    "severity": "HIGH",
                }
            },
        )
    )["reportNeed"]
    assert reported["errors"] == []
    need = reported["need"]
    need_id = need["id"]
    assert need["status"] == "REPORTED" and need["reportedBy"] == {"code": "DINKES"}

    # 2. Dinsos verifies it: REPORTED -> VERIFIED -> OPEN.
    verified = (await admin.data(doc.VERIFY, {"id": need_id, "note": "Dicek ke lapangan"}))[
        "verifyNeed"
    ]
    assert verified["errors"] == []
    assert verified["need"]["status"] == "OPEN"
    assert verified["need"]["verifiedBy"] == {"code": "DINSOS"}

    # Both foundations find it in their feed, the person masked.
    for partner in (a, b):
        feed = (await partner.data(doc.OPEN_NEEDS))["needs"]["nodes"]
        mine = [n for n in feed if n["id"] == need_id]
        assert mine, f"{partner.label} cannot see the open need"
        assert mine[0]["citizen"]["fullName"] != person["fullName"]
        assert mine[0]["citizen"]["household"]["address"] is None

    # 3. They race to pledge it: exactly one wins, the other is told it was taken.
    results = await asyncio.gather(*(p.data(doc.PLEDGE, {"id": need_id}) for p in (a, b)))
    payloads = [r["pledgeNeed"] for r in results]
    winners = [i for i, p in enumerate(payloads) if not p["errors"]]
    assert len(winners) == 1, payloads
    winner, loser = (a, b) if winners[0] == 0 else (b, a)
    won, lost = payloads[winners[0]], payloads[1 - winners[0]]
    assert [e["code"] for e in lost["errors"]] == ["NEED_ALREADY_PLEDGED"]
    assert lost["need"] is None and lost["pledge"] is None
    secrets = [person["fullName"], person["phone"], person["household"]["address"]]
    witness = Witness(loser, secrets)
    witness.check(lost)

    # 4. The winner holds it for 14 days and reads the delivery details in the payload...
    assert won["need"]["status"] == "PLEDGED"
    assert won["need"]["holder"] == {"code": winner.label}
    expires = dt.datetime.fromisoformat(won["pledge"]["expiresAt"])
    pledged = dt.datetime.fromisoformat(won["pledge"]["pledgedAt"])
    assert expires - pledged == dt.timedelta(days=14)
    assert isinstance(won["warnings"], list)
    details = won["need"]["citizen"]
    assert details["fullName"] == person["fullName"]
    assert details["phone"] == person["phone"]
    assert details["household"]["address"] == person["household"]["address"]
    assert details["nik"].count("*") == 8  # the NIK stays masked for a foundation
    # ... and in any later read, with the purpose stated.
    again = (await winner.data(doc.NEED, {"id": need_id}))["node"]
    assert again["citizen"] == details
    await witness.look(need_id, citizen_id)

    # 5. It records its delivery; a retry with the same key records nothing new.
    evidence = hashlib.sha256(b"tanda terima paket sembako").hexdigest()
    contribution = {
        "citizen": citizen_id,
        "need": need_id,
        "category": CATEGORY,
        "kind": "IN_KIND",
        "amount": "1250000",
        "quantity": 5,
        "unit": "paket",
        "deliveredOn": local_date(dt.datetime.now(dt.UTC)).isoformat(),
        "evidenceSha256": evidence,
        "idempotencyKey": "journey-3f0c9d1e",
    }
    first = (await winner.data(doc.RECORD, {"input": contribution}))["recordContribution"]
    retry = (await winner.data(doc.RECORD, {"input": contribution}))["recordContribution"]
    assert first["errors"] == [] and retry["errors"] == []
    assert (first["created"], retry["created"]) == (True, False)
    assert first["contribution"] == retry["contribution"]
    assert first["contribution"]["amount"] == 1_250_000
    assert first["contribution"]["evidenceSha256"] == evidence
    assert first["contribution"]["need"] == {"id": need_id}
    rows = await sql(
        database_url(fresh_city),
        "SELECT count(*) AS n FROM contributions WHERE idempotency_key = :key",
        key="journey-3f0c9d1e",
    )
    assert rows[0]["n"] == 1
    await witness.look(need_id, citizen_id)

    # 6. It closes the need as fulfilled; the history tells the whole story.
    closed = (
        await winner.data(
            doc.CLOSE,
            {"id": need_id, "outcome": "FULFILLED", "reason": "5 paket sembako diterima"},
        )
    )["closeNeed"]
    assert closed["errors"] == []
    assert closed["need"]["status"] == "FULFILLED"
    steps = [(h["fromStatus"], h["toStatus"]) for h in closed["need"]["history"]]
    assert steps == [
        (None, "REPORTED"),
        ("REPORTED", "VERIFIED"),
        ("VERIFIED", "OPEN"),
        ("OPEN", "PLEDGED"),
        ("PLEDGED", "FULFILLED"),
    ]
    actors = [h["organization"]["code"] for h in closed["need"]["history"]]
    assert actors == ["DINKES", "DINSOS", "DINSOS", winner.label, winner.label]
    await witness.look(need_id, citizen_id)

    # 7. The public stats count it: fulfilled in its cell, the rupiah under the winner.
    after = (await auditor.data(doc.STATS))["stats"]
    assert _cell(after, kecamatan)["fulfilled"] == _cell(before, kecamatan)["fulfilled"] + 1
    assert after["fulfilment"]["fulfilledNeeds"] == before["fulfilment"]["fulfilledNeeds"] + 1
    month = contribution["deliveredOn"][:7]
    given = [
        c
        for c in after["contributions"]
        if c["organizationCode"] == winner.label and c["categoryCode"] == CATEGORY
    ]
    assert given == [
        {
            "organizationCode": winner.label,
            "categoryCode": CATEGORY,
            "month": month,
            "amountRupiah": 1_250_000,
            "contributions": 1,
            "organization": {"code": winner.label, "kind": "LKS"},
            "category": {"code": CATEGORY},
        }
    ]
    funding_before, funding = before["partnerFunding"], after["partnerFunding"]
    assert funding["totalRupiah"] == funding_before["totalRupiah"] + 1_250_000
    assert funding["potentialRupiah"] == 1_500_000_000_000
    assert funding["byMonth"][-1]["runningTotalRupiah"] == funding["totalRupiah"]
    # The loser read nothing of the person, at any point.
    assert len(witness.seen) == 10
