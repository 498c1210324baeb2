"""Recording contributions: held needs only, validated input, idempotent under racing retries."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from hub.actor import Actor
from hub.contributions.errors import ContributionError, ContributionErrorCode
from hub.contributions.models import Contribution
from hub.contributions.service import RecordResult, record_contribution
from hub.needs.models import Pledge
from hub.needs.service import CloseOutcome, close_need
from tests.support.city import NOW, City

EVIDENCE = hashlib.sha256(b"foto serah terima").hexdigest()
RETRIES = 20


async def _held(city_db: City, offset: int = 0) -> tuple[int, int, str, Actor]:
    """A seeded PLEDGED need: (need id, citizen id, category, holder)."""
    need_id = await city_db.need_in("PLEDGED", offset=offset)
    need = await city_db.need(need_id)
    return need_id, need.citizen_id, need.category_code, await city_db.pledger(need_id)


def _arguments(
    need_id: int | None, citizen_id: int, category: str, **changes: Any
) -> dict[str, Any]:
    return {
        "citizen_id": citizen_id,
        "need_id": need_id,
        "category_code": category,
        "kind": "IN_KIND",
        "amount_rupiah": 450_000,
        "quantity": 3,
        "unit": "paket",
        "delivered_on": dt.date(2026, 10, 30),
        "evidence_sha256": EVIDENCE,
        "idempotency_key": "7f1d3c1e-delivery-1",
        **changes,
    }


async def _record(
    city_db: City, actor: Actor, arguments: dict[str, Any], now: dt.datetime = NOW
) -> RecordResult:
    async with city_db.sessions() as session, session.begin():
        return await record_contribution(session, actor=actor, now=now, **arguments)


async def _count(city_db: City, actor: Actor) -> int:
    return int(
        await city_db.scalar(
            select(func.count()).where(Contribution.organization_id == actor.organization_id)
        )
    )


async def test_a_contribution_against_a_held_need_is_recorded_and_leaves_it_pledged(
    city_db: City,
) -> None:
    need_id, citizen_id, category, holder = await _held(city_db)
    before = await _count(city_db, holder)
    result = await _record(city_db, holder, _arguments(need_id, citizen_id, category))
    assert result.created
    stored = (
        await city_db.all(select(Contribution).where(Contribution.id == result.contribution_id))
    )[0][0]
    need = await city_db.need(need_id)
    assert (stored.need_id, stored.citizen_id, stored.organization_id, stored.kind) == (
        need_id,
        citizen_id,
        holder.organization_id,
        "IN_KIND",
    )
    assert (stored.amount_rupiah, stored.quantity, stored.unit, stored.evidence_sha256) == (
        450_000,
        3,
        "paket",
        EVIDENCE,
    )
    assert (stored.kecamatan_code, stored.created_at) == (need.kecamatan_code, NOW)
    assert need.status == "PLEDGED"
    assert await _count(city_db, holder) == before + 1


async def test_a_retry_returns_the_first_record_and_writes_nothing(city_db: City) -> None:
    need_id, citizen_id, category, holder = await _held(city_db)
    arguments = _arguments(need_id, citizen_id, category)
    first = await _record(city_db, holder, arguments)
    count = await _count(city_db, holder)
    again = await _record(
        city_db, holder, {**arguments, "evidence_sha256": EVIDENCE.upper(), "unit": " paket "}
    )
    assert (again.contribution_id, again.created, again.warnings) == (
        first.contribution_id,
        False,
        first.warnings,
    )
    assert await _count(city_db, holder) == count
    with pytest.raises(ContributionError) as caught:
        await _record(city_db, holder, {**arguments, "amount_rupiah": 500_000, "quantity": 4})
    assert caught.value.code is ContributionErrorCode.IDEMPOTENCY_KEY_REUSED
    assert "amount_rupiah, quantity" in caught.value.message
    assert str(first.contribution_id) in caught.value.message


async def test_the_key_belongs_to_one_organisation(city_db: City) -> None:
    first, second = await city_db.foundations(2)
    arguments = _arguments(None, 1, "FOOD")
    a = await _record(city_db, first, arguments)
    b = await _record(city_db, second, arguments)
    assert a.created and b.created and a.contribution_id != b.contribution_id


async def test_a_retry_after_the_need_closed_still_finds_its_record(city_db: City) -> None:
    need_id, citizen_id, category, holder = await _held(city_db)
    arguments = _arguments(need_id, citizen_id, category)
    first = await _record(city_db, holder, arguments)
    async with city_db.sessions() as session, session.begin():
        await close_need(
            session,
            actor=holder,
            need_id=need_id,
            outcome=CloseOutcome.FULFILLED,
            reason=None,
            now=NOW,
        )
    again = await _record(city_db, holder, arguments)
    assert (again.contribution_id, again.created) == (first.contribution_id, False)


async def test_twenty_racing_retries_make_one_record(city_db: City) -> None:
    need_id, citizen_id, category, holder = await _held(city_db)
    arguments = _arguments(need_id, citizen_id, category)
    count = await _count(city_db, holder)
    start = asyncio.Event()

    async def attempt() -> RecordResult:
        await start.wait()
        return await _record(city_db, holder, arguments)

    tasks = [asyncio.create_task(attempt()) for _ in range(RETRIES)]
    start.set()
    results = await asyncio.gather(*tasks)
    assert len({r.contribution_id for r in results}) == 1
    assert Counter(r.created for r in results) == {True: 1, False: RETRIES - 1}
    assert len({tuple(r.warnings) for r in results}) == 1
    assert await _count(city_db, holder) == count + 1


async def test_only_the_holder_of_an_active_pledge_may_record_against_a_need(city_db: City) -> None:
    need_id, citizen_id, category, holder = await _held(city_db)
    stranger = await city_db.other_foundation(holder)
    open_id = await city_db.need_in("OPEN")
    open_need = await city_db.need(open_id)
    fulfilled_id = await city_db.need_in("FULFILLED")
    fulfilled = await city_db.need(fulfilled_id)
    fulfiller = Actor(fulfilled.holder_organization_id or 0)
    expires_at = await city_db.scalar(
        select(Pledge.expires_at).where(Pledge.need_id == need_id, Pledge.status == "ACTIVE")
    )
    cases = [
        (stranger, _arguments(need_id, citizen_id, category), NOW, "is PLEDGED"),
        (
            stranger,
            _arguments(open_id, open_need.citizen_id, open_need.category_code),
            NOW,
            "is OPEN",
        ),
        (
            fulfiller,
            _arguments(fulfilled_id, fulfilled.citizen_id, fulfilled.category_code),
            NOW,
            "is FULFILLED",
        ),
        (
            holder,
            _arguments(need_id, citizen_id, category),
            expires_at + dt.timedelta(seconds=1),
            "is OPEN",
        ),
    ]
    for actor, arguments, now, fragment in cases:
        with pytest.raises(ContributionError) as caught:
            await _record(city_db, actor, arguments, now)
        assert caught.value.code is ContributionErrorCode.NEED_NOT_HELD
        assert fragment in caught.value.message
        assert "pledge it first" in caught.value.message


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"amount_rupiah": -1}, "amount -1"),
        ({"kind": "CASH", "amount_rupiah": 0, "quantity": None, "unit": None}, "above Rp0"),
        ({"quantity": 0}, "quantity 0"),
        ({"unit": None}, "go together"),
        ({"quantity": None}, "go together"),
        ({"unit": "x" * 21}, "longer than 20"),
        ({"evidence_sha256": "abc"}, "64 hexadecimal"),
        ({"evidence_sha256": "g" * 64}, "64 hexadecimal"),
        ({"delivered_on": dt.date(2026, 11, 3)}, "in the future"),
        ({"kind": "GOLD"}, "kind 'GOLD'"),
        ({"idempotency_key": "  "}, "idempotency_key"),
        ({"idempotency_key": "k" * 81}, "idempotency_key"),
    ],
)
async def test_invalid_input_is_refused(
    shared_city_db: City, changes: dict[str, Any], fragment: str
) -> None:
    actor = (await shared_city_db.foundations(1))[0]
    async with shared_city_db.sessions() as session:
        with pytest.raises(ContributionError) as caught:
            await record_contribution(
                session, actor=actor, now=NOW, **_arguments(None, 1, "FOOD", **changes)
            )
    assert caught.value.code is ContributionErrorCode.INVALID_INPUT
    assert fragment in caught.value.message


async def test_delivery_dates_are_bandung_dates(city_db: City) -> None:
    actor = (await city_db.foundations(1))[0]
    evening_utc = dt.datetime(2026, 11, 1, 18, 0, tzinfo=dt.UTC)  # 2 November, 01:00 WIB
    result = await _record(
        city_db, actor, _arguments(None, 1, "FOOD", delivered_on=dt.date(2026, 11, 2)), evening_utc
    )
    assert result.created


async def test_references_are_checked(city_db: City) -> None:
    need_id, citizen_id, category, holder = await _held(city_db)
    other_category = "HOUSING" if category != "HOUSING" else "FOOD"
    cases = [
        (_arguments(None, 1, "NOPE"), ContributionErrorCode.CATEGORY_NOT_FOUND),
        (_arguments(None, 10**9, "FOOD"), ContributionErrorCode.CITIZEN_NOT_FOUND),
        (_arguments(10**9, citizen_id, category), ContributionErrorCode.NEED_NOT_FOUND),
        (_arguments(need_id, citizen_id + 1, category), ContributionErrorCode.NEED_MISMATCH),
        (_arguments(need_id, citizen_id, other_category), ContributionErrorCode.NEED_MISMATCH),
    ]
    for arguments, code in cases:
        with pytest.raises(ContributionError) as caught:
            await _record(city_db, holder, arguments)
        assert caught.value.code is code, arguments
