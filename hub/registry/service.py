"""Registry writes pushed by agencies' systems: households, citizens, programme enrolments.

Natural keys, not the hub's ids: a household by its DTKS id (else its KK number), a citizen by
NIK, an enrolment by person and programme. Each write records who made it (organisation and
client, through the API) and counts the record's version up; an update must carry the
version it was based on (`expected_version`), or it is refused as STALE_WRITE, so that an
agency never overwrites a change it has not seen. A write that changes nothing leaves the
version as it is. A citizen who moves to another household keeps the one they left in
`citizen_household_history`; a household whose KK number changes keeps the old one in
`household_kk_numbers`. The commands flush and never commit: the request owns the transaction.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.actor import Actor
from hub.programs.models import Enrolment, Program
from hub.regions.models import Region
from hub.regions.reference import CITY_CODE
from hub.registry.errors import RegistryError, RegistryErrorCode
from hub.registry.models import (
    RELATIONSHIPS,
    SEXES,
    Citizen,
    CitizenHouseholdHistory,
    Household,
    HouseholdKkNumber,
)
from hub.registry.numbers import kk_problem, nik_problem

_RT_RW = re.compile(r"^\d{1,3}$")
Code = RegistryErrorCode


@dataclass(frozen=True, slots=True, kw_only=True)
class HouseholdFields:
    """A household as an agency pushes it; `dtks_id` or `kk_number` finds an existing one."""

    kk_number: str
    dtks_id: str | None = None
    address: str
    rt: str
    rw: str
    kelurahan_code: str
    welfare_decile: int | None = None
    expected_version: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CitizenFields:
    """A citizen as an agency pushes it. On an update, a field left None keeps its value."""

    nik: str
    full_name: str | None = None
    birth_date: dt.date | None = None
    sex: str | None = None
    relationship: str | None = None
    #: The household, by DTKS id or KK number (one is enough).
    household_dtks_id: str | None = None
    household_kk_number: str | None = None
    has_disability: bool | None = None
    has_chronic_illness: bool | None = None
    education: str | None = None
    occupation: str | None = None
    phone: str | None = None
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class Written:
    """The record after a write, whether it was created, and which fields changed."""

    record: Any
    created: bool
    changed_fields: tuple[str, ...]

    @property
    def changed(self) -> bool:
        """True when the write created or changed the record."""
        return self.created or bool(self.changed_fields)


def _stamp(record: Any, actor: Actor, fields: tuple[str, ...], now: dt.datetime) -> None:
    """Set a record's provenance for a change of `fields` by `actor`."""
    record.changed_via = "API"
    record.changed_by_organization_id = actor.organization_id
    record.changed_by_client_id = actor.client_id
    record.changed_by_import_id = None
    record.changed_fields = " ".join(fields)[:200] or None
    record.updated_at = now


def _check_version(record: Any, expected: int | None, what: str) -> None:
    """Refuse a write not based on the record's current version."""
    if expected != record.version:
        sent = "no expectedVersion" if expected is None else f"expectedVersion {expected}"
        raise RegistryError(
            Code.STALE_WRITE,
            f"{what} is at version {record.version} and you sent {sent}: it was changed since "
            f"you read it (or you did not read it). Read it again and send expectedVersion: "
            f"{record.version} with your change.",
        )


def _text(value: str, name: str, limit: int) -> str:
    cleaned = " ".join(value.split())
    if not cleaned or len(cleaned) > limit:
        raise RegistryError(Code.INVALID_INPUT, f"{name} must be 1 to {limit} characters")
    return cleaned


def _rt_rw(value: str, name: str) -> str:
    value = value.strip()
    if not _RT_RW.match(value) or int(value) == 0:
        raise RegistryError(Code.INVALID_INPUT, f"{name} must be a number from 1 to 999")
    return f"{int(value):03d}"


async def _kelurahan(session: AsyncSession, code: str) -> Region:
    region = await session.get(Region, code)
    if region is None or region.level != "KELURAHAN" or not code.startswith(CITY_CODE + "."):
        raise RegistryError(
            Code.REGION_NOT_FOUND,
            f"{code!r} is not a kelurahan of Kota Bandung; `regions(level: KELURAHAN)` lists "
            "their codes (32.73.xx.xxxx)",
        )
    return region


async def find_household(
    session: AsyncSession, *, dtks_id: str | None, kk_number: str | None
) -> Household | None:
    """The household with this DTKS id, else the one whose current KK number this is."""
    if dtks_id:
        found = await session.scalar(select(Household).where(Household.dtks_id == dtks_id))
        if found is not None:
            return found
    if kk_number:
        return await session.scalar(select(Household).where(Household.kk_number == kk_number))
    return None


async def upsert_household(
    session: AsyncSession, *, actor: Actor, fields: HouseholdFields, now: dt.datetime
) -> Written:
    """Create or update a household; raise RegistryError saying why it cannot."""
    problem = kk_problem(fields.kk_number)
    if problem is not None:
        raise RegistryError(Code.INVALID_KK, problem[1])
    if fields.dtks_id is not None and not 1 <= len(fields.dtks_id) <= 32:
        raise RegistryError(Code.INVALID_INPUT, "dtksId must be 1 to 32 characters")
    if fields.welfare_decile is not None and not 1 <= fields.welfare_decile <= 10:
        raise RegistryError(Code.INVALID_INPUT, "welfareDecile must be from 1 to 10")
    region = await _kelurahan(session, fields.kelurahan_code)
    values = {
        "kk_number": fields.kk_number,
        "address": _text(fields.address, "address", 200),
        "rt": _rt_rw(fields.rt, "rt"),
        "rw": _rt_rw(fields.rw, "rw"),
        "kelurahan_code": region.code,
        "kecamatan_code": region.parent_code,
        "welfare_decile": fields.welfare_decile,
    }
    if fields.dtks_id is not None:
        values["dtks_id"] = fields.dtks_id
    household = await find_household(session, dtks_id=fields.dtks_id, kk_number=fields.kk_number)
    if household is not None and fields.dtks_id and household.dtks_id not in (None, fields.dtks_id):
        raise RegistryError(
            Code.CONFLICT,
            f"KK number {fields.kk_number} belongs to the household with DTKS id "
            f"{household.dtks_id}, not {fields.dtks_id}",
        )
    holder = await session.scalar(
        select(Household.id).where(Household.kk_number == fields.kk_number)
    )
    if holder is not None and (household is None or holder != household.id):
        raise RegistryError(
            Code.CONFLICT, f"KK number {fields.kk_number} belongs to another household"
        )
    today = now.date()
    if household is None:
        household = Household(**values, source="API", created_at=now, version=1, dtks_listed=False)
        _stamp(household, actor, (), now)
        session.add(household)
        await session.flush()
        session.add(HouseholdKkNumber(kk_number=fields.kk_number, household_id=household.id,
                                      valid_from=today))  # fmt: skip
        await session.flush()
        return Written(household, True, ())
    _check_version(household, fields.expected_version, f"household {household.id}")
    changed = tuple(
        _GRAPHQL_NAMES.get(name, name)
        for name, value in values.items()
        if getattr(household, name) != value and name != "kecamatan_code"
    )
    if not changed:
        return Written(household, False, ())
    if household.kk_number != fields.kk_number:
        old = await session.get(HouseholdKkNumber, household.kk_number)
        if old is not None:
            old.valid_until = today
        reused = await session.get(HouseholdKkNumber, fields.kk_number)
        if reused is None:
            session.add(HouseholdKkNumber(kk_number=fields.kk_number, household_id=household.id,
                                          valid_from=today))  # fmt: skip
        else:
            reused.household_id, reused.valid_from, reused.valid_until = household.id, today, None
    for name, value in values.items():
        setattr(household, name, value)
    household.version += 1
    _stamp(household, actor, changed, now)
    await session.flush()
    return Written(household, False, changed)


_GRAPHQL_NAMES = {
    "kk_number": "kkNumber",
    "dtks_id": "dtksId",
    "kelurahan_code": "kelurahan",
    "welfare_decile": "welfareDecile",
    "full_name": "fullName",
    "birth_date": "birthDate",
    "household_id": "household",
    "has_disability": "hasDisability",
    "has_chronic_illness": "hasChronicIllness",
}


async def upsert_citizen(
    session: AsyncSession, *, actor: Actor, fields: CitizenFields, now: dt.datetime
) -> Written:
    """Create or update a citizen by NIK; raise RegistryError saying why it cannot."""
    citizen = await session.scalar(select(Citizen).where(Citizen.nik == fields.nik))
    if citizen is None:
        missing = [
            name
            for name, value in (
                ("fullName", fields.full_name),
                ("birthDate", fields.birth_date),
                ("sex", fields.sex),
                ("relationship", fields.relationship),
                ("household", fields.household_dtks_id or fields.household_kk_number),
            )
            if value is None
        ]
        if missing:
            raise RegistryError(
                Code.INVALID_INPUT,
                f"a new citizen needs {', '.join(missing)}; the hub has no one with NIK "
                f"{fields.nik}",
            )
    else:
        _check_version(citizen, fields.expected_version, f"citizen {citizen.id}")
    values: dict[str, Any] = {}
    if fields.full_name is not None:
        values["full_name"] = _text(fields.full_name, "fullName", 120)
    if fields.birth_date is not None:
        values["birth_date"] = fields.birth_date
    if fields.sex is not None:
        if fields.sex not in SEXES:
            raise RegistryError(Code.INVALID_INPUT, "sex must be F or M")
        values["sex"] = fields.sex
    if fields.relationship is not None:
        if fields.relationship not in RELATIONSHIPS:
            raise RegistryError(
                Code.INVALID_INPUT, f"relationship must be one of {', '.join(RELATIONSHIPS)}"
            )
        values["relationship"] = fields.relationship
    for name in ("has_disability", "has_chronic_illness"):
        if getattr(fields, name) is not None:
            values[name] = getattr(fields, name)
    for name, limit in (("education", 40), ("occupation", 60), ("phone", 20)):
        value = getattr(fields, name)
        if value is not None:
            values[name] = _text(value, name, limit)
    if fields.household_dtks_id or fields.household_kk_number:
        household = await find_household(
            session, dtks_id=fields.household_dtks_id, kk_number=fields.household_kk_number
        )
        if household is None:
            raise RegistryError(
                Code.HOUSEHOLD_NOT_FOUND,
                "no household has this DTKS id or KK number; push it with upsertHousehold first",
            )
        values["household_id"] = household.id
    birth = values.get("birth_date", citizen.birth_date if citizen else None)
    sex = values.get("sex", citizen.sex if citizen else None)
    assert birth is not None and sex is not None
    problem = nik_problem(fields.nik, birth, sex)
    if problem is not None:
        raise RegistryError(Code.INVALID_NIK, problem[1])
    today = now.date()
    if citizen is None:
        citizen = Citizen(
            nik=fields.nik, **values, household_since=today, created_at=now, version=1,
            dtks_listed=False,
        )  # fmt: skip
        citizen.has_disability = bool(values.get("has_disability", False))
        citizen.has_chronic_illness = bool(values.get("has_chronic_illness", False))
        _stamp(citizen, actor, (), now)
        session.add(citizen)
        await session.flush()
        return Written(citizen, True, ())
    changed = tuple(
        _GRAPHQL_NAMES.get(name, name)
        for name, value in values.items()
        if getattr(citizen, name) != value
    )
    if not changed:
        return Written(citizen, False, ())
    if values.get("household_id", citizen.household_id) != citizen.household_id:
        session.add(
            CitizenHouseholdHistory(
                citizen_id=citizen.id,
                household_id=citizen.household_id,
                relationship=citizen.relationship,
                valid_from=citizen.household_since or citizen.created_at.date(),
                valid_to=today,
            )
        )
        citizen.household_since = today
    for name, value in values.items():
        setattr(citizen, name, value)
    citizen.version += 1
    _stamp(citizen, actor, changed, now)
    await session.flush()
    return Written(citizen, False, changed)


async def _citizen(session: AsyncSession, nik: str) -> Citizen:
    citizen = await session.scalar(select(Citizen).where(Citizen.nik == nik))
    if citizen is None:
        raise RegistryError(Code.CITIZEN_NOT_FOUND, f"the hub has no one with NIK {nik}")
    return citizen


async def _running(session: AsyncSession, citizen_id: int, program_code: str) -> Enrolment | None:
    return await session.scalar(
        select(Enrolment)
        .where(
            Enrolment.citizen_id == citizen_id,
            Enrolment.program_code == program_code,
            Enrolment.ended_on.is_(None),
        )
        .order_by(Enrolment.started_on.desc())
        .limit(1)
    )


async def enroll(
    session: AsyncSession,
    *,
    actor: Actor,
    nik: str,
    program_code: str,
    started_on: dt.date,
    benefit_rupiah: int | None,
    now: dt.datetime,
) -> Written:
    """Enrol a citizen in a programme; a running enrolment there is returned, not repeated."""
    citizen = await _citizen(session, nik)
    if await session.get(Program, program_code) is None:
        raise RegistryError(
            Code.PROGRAM_NOT_FOUND, f"there is no programme {program_code!r}; `programs` lists them"
        )
    if benefit_rupiah is not None and benefit_rupiah < 0:
        raise RegistryError(Code.INVALID_INPUT, "benefit must be zero or more rupiah")
    running = await _running(session, citizen.id, program_code)
    if running is not None:
        if benefit_rupiah is None or running.benefit_rupiah == benefit_rupiah:
            return Written(running, False, ())
        running.benefit_rupiah = benefit_rupiah
        running.changed_via, running.changed_at = "API", now
        running.changed_by_organization_id = actor.organization_id
        running.changed_by_client_id = actor.client_id
        await session.flush()
        return Written(running, False, ("benefit",))
    enrolment = Enrolment(
        citizen_id=citizen.id, program_code=program_code, started_on=started_on,
        benefit_rupiah=benefit_rupiah, changed_via="API", changed_at=now,
        changed_by_organization_id=actor.organization_id, changed_by_client_id=actor.client_id,
    )  # fmt: skip
    session.add(enrolment)
    await session.flush()
    return Written(enrolment, True, ())


async def end_enrollment(
    session: AsyncSession,
    *,
    actor: Actor,
    nik: str,
    program_code: str,
    ended_on: dt.date,
    now: dt.datetime,
) -> Written:
    """End a citizen's running enrolment in a programme on `ended_on`."""
    citizen = await _citizen(session, nik)
    running = await _running(session, citizen.id, program_code)
    if running is None:
        raise RegistryError(
            Code.NOT_ENROLLED, f"NIK {nik} has no running enrolment in {program_code!r}"
        )
    if ended_on < running.started_on:
        raise RegistryError(
            Code.INVALID_INPUT,
            f"endedOn {ended_on} is before the enrolment started ({running.started_on})",
        )
    running.ended_on = ended_on
    running.changed_via, running.changed_at = "API", now
    running.changed_by_organization_id = actor.organization_id
    running.changed_by_client_id = actor.client_id
    await session.flush()
    return Written(running, False, ("endedOn",))
