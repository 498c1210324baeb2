"""Whose trail a personal field goes on: the citizens each personal type is about.

The field layer notes, per type of the policy's personal fields (`PERSONAL_FIELDS`), which
objects a response carried in full. Here each type names the citizens such an object is
about: a citizen is about themselves; a household (its KK number, address, RT/RW) is about
every one of its members, so a read of the address reaches the trail of each of them.
Each type costs at most one statement per request, however many objects were read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.audit.events import CitizenAccess, merge_accesses
from hub.registry.models import Citizen

#: Object ids of one type in, the citizen ids each is about out.
Subjects = Callable[[AsyncSession, Collection[int]], Awaitable[Mapping[int, Collection[int]]]]

_citizens = Citizen.__table__


async def _themselves(_: AsyncSession, ids: Collection[int]) -> Mapping[int, Collection[int]]:
    return {pk: (pk,) for pk in ids}


async def _household_members(
    session: AsyncSession, ids: Collection[int]
) -> Mapping[int, Collection[int]]:
    # Every member, whether or not the caller may reach them: it is their address.
    rows = await session.execute(
        select(_citizens.c.household_id, _citizens.c.id).where(
            _citizens.c.household_id.in_(list(ids))
        )
    )
    members: dict[int, list[int]] = {}
    for household_id, citizen_id in rows:
        members.setdefault(household_id, []).append(citizen_id)
    return members


#: One entry per type that carries personal fields (a test checks the catalogue is covered).
SUBJECTS: dict[str, Subjects] = {
    "Citizen": _themselves,
    "Household": _household_members,
}


async def citizen_accesses(
    session: AsyncSession,
    reads: Mapping[str, Mapping[int, Collection[str]]],
    extra: Mapping[int, Collection[str]] | None = None,
) -> tuple[CitizenAccess, ...]:
    """The citizens whose personal fields `reads` (type -> id -> fields) carried, merged."""
    accesses = [CitizenAccess(cid, tuple(fields)) for cid, fields in (extra or {}).items()]
    for type_name, by_pk in reads.items():
        if not by_pk:
            continue
        subjects = await SUBJECTS[type_name](session, by_pk.keys())
        for pk, fields in by_pk.items():
            accesses += [CitizenAccess(cid, tuple(fields)) for cid in subjects.get(pk, ())]
    return merge_accesses(accesses)
