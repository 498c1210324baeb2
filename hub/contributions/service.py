"""Recording what a partner delivered: validated, idempotent, and checked for duplicate aid.

A client retrying `recordContribution` with the same idempotency key gets the first record
back and nothing new is written, however many retries race: the insert is
`INSERT … ON CONFLICT (organization_id, idempotency_key) DO NOTHING`, so the unique
constraint decides without raising and no savepoint is needed.

A contribution against a need is accepted only from the organisation holding an ACTIVE,
unexpired pledge on it. It does not close the need: one need may take several deliveries,
and `closeNeed` is the partner's statement that the need is met.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from hub.actor import Actor
from hub.contributions.errors import ContributionError, ContributionErrorCode
from hub.contributions.models import CONTRIBUTION_KINDS, MAX_RUPIAH, Contribution
from hub.duplicate_aid.queries import (
    DUPLICATE_AID_WINDOW,
    DuplicateAidWarning,
    find_earlier_aid,
    flagged_warnings,
)
from hub.duplicate_aid.service import flag_duplicates
from hub.ids import citizen_ref, need_ref
from hub.localtime import local_date
from hub.needs.models import Need, NeedCategory, Pledge
from hub.needs.service import expire_pledges
from hub.registry.models import Citizen, Household

MAX_QUANTITY = 2**31 - 1
MAX_KEY_LENGTH = 80
MAX_UNIT_LENGTH = 20
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
#: The fields that make two requests with one idempotency key the same contribution.
PAYLOAD_FIELDS = (
    "citizen_id", "need_id", "category_code", "kind", "amount_rupiah", "quantity", "unit",
    "delivered_on", "evidence_sha256",
)  # fmt: skip

_contributions = Contribution.__table__


@dataclass(frozen=True, slots=True)
class RecordResult:
    """The contribution's row, whether this call created it, and duplicate-aid warnings."""

    row: Row[Any]
    created: bool
    warnings: list[DuplicateAidWarning]

    @property
    def contribution_id(self) -> int:
        """The id of the contribution recorded (now or by the first call with the key)."""
        identifier: int = self.row.id
        return identifier


def _invalid(message: str) -> ContributionError:
    return ContributionError(ContributionErrorCode.INVALID_INPUT, message)


def _payload(
    *,
    citizen_id: int,
    need_id: int | None,
    category_code: str,
    kind: str,
    amount_rupiah: int,
    quantity: int | None,
    unit: str | None,
    delivered_on: dt.date,
    evidence_sha256: str | None,
    idempotency_key: str,
    now: dt.datetime,
) -> dict[str, Any]:
    """The normalised payload; raise INVALID_INPUT for a value the hub cannot accept."""
    if kind not in CONTRIBUTION_KINDS:
        raise _invalid(f"kind {kind!r} is unknown; use one of {', '.join(CONTRIBUTION_KINDS)}")
    if not 0 <= amount_rupiah <= MAX_RUPIAH:
        raise _invalid(f"amount {amount_rupiah} must be between 0 and {MAX_RUPIAH} rupiah")
    if kind == "CASH" and amount_rupiah == 0:
        raise _invalid("a CASH contribution must have an amount above Rp0")
    unit = unit.strip() if unit else None
    if quantity is not None and not 0 < quantity <= MAX_QUANTITY:
        raise _invalid(f"quantity {quantity} must be a whole number above 0")
    if (quantity is None) != (unit is None):
        raise _invalid("quantity and unit go together: give both (3 paket) or neither")
    if unit is not None and len(unit) > MAX_UNIT_LENGTH:
        raise _invalid(f"unit {unit!r} is longer than {MAX_UNIT_LENGTH} characters")
    if evidence_sha256 is not None:
        if not _SHA256.match(evidence_sha256):
            raise _invalid(
                "evidence_sha256 must be the SHA-256 of the evidence file as 64 hexadecimal "
                f"characters; got {len(evidence_sha256)} characters"
            )
        evidence_sha256 = evidence_sha256.lower()
    today = local_date(now)
    if delivered_on > today:
        raise _invalid(
            f"delivered_on {delivered_on.isoformat()} is in the future; record a delivery "
            f"on or before {today.isoformat()} (WIB)"
        )
    if not idempotency_key.strip() or len(idempotency_key) > MAX_KEY_LENGTH:
        raise _invalid(
            f"idempotency_key must have 1 to {MAX_KEY_LENGTH} characters; use a fresh UUID "
            "per contribution and reuse it only to retry"
        )
    return {
        "citizen_id": citizen_id,
        "need_id": need_id,
        "category_code": category_code,
        "kind": kind,
        "amount_rupiah": amount_rupiah,
        "quantity": quantity,
        "unit": unit,
        "delivered_on": delivered_on,
        "evidence_sha256": evidence_sha256,
    }


async def record_contribution(
    session: AsyncSession,
    *,
    actor: Actor,
    citizen_id: int,
    need_id: int | None,
    category_code: str,
    kind: str,
    amount_rupiah: int,
    quantity: int | None,
    unit: str | None,
    delivered_on: dt.date,
    evidence_sha256: str | None,
    idempotency_key: str,
    now: dt.datetime,
    duplicate_window: dt.timedelta = DUPLICATE_AID_WINDOW,
    may_record: Callable[[], Awaitable[None]] | None = None,
    category_exists: Callable[[str], Awaitable[bool]] | None = None,
) -> RecordResult:
    """Record a delivery once per idempotency key; raise ContributionError when refused.

    `may_record` runs only for a key not recorded yet, before any rule here: the caller's
    own refusals (the API's row rules), which a retry must not meet again.
    `category_exists` answers whether the taxonomy holds a code (the API's process copy of
    it, no statement); without it the session is asked.
    """
    payload = _payload(
        citizen_id=citizen_id,
        need_id=need_id,
        category_code=category_code,
        kind=kind,
        amount_rupiah=amount_rupiah,
        quantity=quantity,
        unit=unit,
        delivered_on=delivered_on,
        evidence_sha256=evidence_sha256,
        idempotency_key=idempotency_key,
        now=now,
    )
    # A retry finds its record before any rule is checked again: the need may have been
    # closed since the first call, which must not turn a success into a refusal.
    existing = await _existing(session, actor.organization_id, idempotency_key)
    if existing is not None:
        return await _replay(session, existing, payload, idempotency_key)
    if may_record is not None:
        await may_record()
    kecamatan = await _check_subject(session, actor, payload, now, category_exists)
    warnings = await find_earlier_aid(
        session,
        citizen_id=citizen_id,
        category_code=category_code,
        day=delivered_on,
        window=duplicate_window,
        exclude_need_id=need_id,
    )
    values = {
        **payload,
        "organization_id": actor.organization_id,
        "idempotency_key": idempotency_key,
        "kecamatan_code": kecamatan,
        "created_at": now,
    }
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(_contributions)
        .values(values)
        .on_conflict_do_nothing(index_elements=["organization_id", "idempotency_key"])
        .returning(*_contributions.c)
    )
    row = (await session.execute(statement)).first()
    if row is None:  # a concurrent retry with the same key inserted first
        existing = await _existing(session, actor.organization_id, idempotency_key)
        if existing is None:
            raise RuntimeError("the idempotency key conflicted but its record is not visible")
        return await _replay(session, existing, payload, idempotency_key)
    await flag_duplicates(
        session,
        warnings=warnings,
        citizen_id=citizen_id,
        organization_id=actor.organization_id,
        need_id=need_id,
        contribution_id=row.id,
        now=now,
    )
    return RecordResult(row=row, created=True, warnings=warnings)


async def _existing(
    session: AsyncSession, organization_id: int, idempotency_key: str
) -> Row[Any] | None:
    """The organisation's contribution recorded under this key, or None."""
    return (
        await session.execute(
            select(_contributions).where(
                _contributions.c.organization_id == organization_id,
                _contributions.c.idempotency_key == idempotency_key,
            )
        )
    ).first()


async def _replay(
    session: AsyncSession,
    existing: Row[Any],
    payload: dict[str, Any],
    idempotency_key: str,
) -> RecordResult:
    """The first record's result; raise IDEMPOTENCY_KEY_REUSED when the payload differs."""
    recorded = existing._mapping
    differing = [name for name in PAYLOAD_FIELDS if recorded[name] != payload[name]]
    if differing:
        raise ContributionError(
            ContributionErrorCode.IDEMPOTENCY_KEY_REUSED,
            f"idempotency key {idempotency_key!r} already recorded contribution "
            f"{existing.id} with a different {', '.join(differing)}; use a new key for a "
            "new contribution and the same key only to retry the same one",
        )
    warnings = await flagged_warnings(session, contribution_id=existing.id)
    return RecordResult(row=existing, created=False, warnings=warnings)


async def _check_subject(
    session: AsyncSession,
    actor: Actor,
    payload: dict[str, Any],
    now: dt.datetime,
    category_exists: Callable[[str], Awaitable[bool]] | None,
) -> str:
    """Check category, citizen and need; return the kecamatan to record the delivery in."""
    category_code: str = payload["category_code"]
    citizen_id: int = payload["citizen_id"]
    need_id: int | None = payload["need_id"]
    if category_exists is not None:
        known = await category_exists(category_code)
    else:
        known = await session.get(NeedCategory, category_code) is not None
    if not known:
        raise ContributionError(
            ContributionErrorCode.CATEGORY_NOT_FOUND,
            f"category {category_code!r} is not in the need taxonomy; `needCategories` lists them",
        )
    home = await session.scalar(
        select(Household.kecamatan_code)
        .join(Citizen, Citizen.household_id == Household.id)
        .where(Citizen.id == citizen_id)
    )
    if home is None:
        raise ContributionError(
            ContributionErrorCode.CITIZEN_NOT_FOUND,
            f"there is no citizen {citizen_ref(citizen_id)}",
        )
    if need_id is None:
        return home
    # A pledge past its expiry no longer holds the need; ending it first (a write) also
    # makes the reads below part of this transaction on SQLite.
    await expire_pledges(session, now=now, need_id=need_id)
    need = (
        await session.execute(
            select(Need.citizen_id, Need.category_code, Need.status, Need.kecamatan_code).where(
                Need.id == need_id
            )
        )
    ).first()
    if need is None:
        raise ContributionError(
            ContributionErrorCode.NEED_NOT_FOUND, f"there is no need {need_ref(need_id)}"
        )
    if need.citizen_id != citizen_id:
        raise ContributionError(
            ContributionErrorCode.NEED_MISMATCH,
            f"need {need_ref(need_id)} belongs to another citizen; record the contribution for the "
            "need's own citizen, or without a need",
        )
    if need.category_code != category_code:
        raise ContributionError(
            ContributionErrorCode.NEED_MISMATCH,
            f"need {need_ref(need_id)} is in category {need.category_code}; a contribution "
            f"against it "
            f"must be in {need.category_code}, not {category_code}",
        )
    # FOR SHARE (PostgreSQL): a concurrent release or close of this pledge waits for us.
    pledge = await session.scalar(
        select(Pledge.id)
        .where(
            Pledge.need_id == need_id,
            Pledge.organization_id == actor.organization_id,
            Pledge.status == "ACTIVE",
            Pledge.expires_at > now,
        )
        .with_for_update(read=True)
    )
    if need.status != "PLEDGED" or pledge is None:
        raise ContributionError(
            ContributionErrorCode.NEED_NOT_HELD,
            f"need {need_ref(need_id)} is {need.status} and your organisation holds no active "
            f"pledge "
            "on it; pledge it first (pledgeNeed), or record the contribution without a need",
        )
    kecamatan: str = need.kecamatan_code
    return kecamatan
