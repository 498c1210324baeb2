"""Programme enrolments of poorer households: PKH, BPNT, PBI-JK, PIP, Rutilahu, ATENSI, and
the city's, the province's and the foundations' own programmes, each with its benefit."""

from __future__ import annotations

import datetime as dt
from random import Random

from hub.synthetic.clock import REFERENCE_ORDINAL, ordinal_of, years_after
from hub.synthetic.draw import chance
from hub.synthetic.people import Family, Person
from hub.synthetic.rows import Row

ENROLMENT_COLUMNS = (
    "id", "citizen_id", "program_code", "started_on", "ended_on", "benefit_rupiah",
    "changed_via", "changed_by_organization_id", "changed_by_client_id", "changed_at",
)  # fmt: skip

#: The first day each programme could have enrolled anyone.
PROGRAMMES = {
    "PKH": ordinal_of(2007, 7),
    "BPNT": ordinal_of(2017, 2),
    "PBI_JK": ordinal_of(2014, 1),
    "PIP": ordinal_of(2015, 1),
    "RUTILAHU": ordinal_of(2016, 1),
    "ATENSI": ordinal_of(2020, 1),
    # The city's, the province's and the foundations' programmes take the place of
    # national ones for some families; with the same launch dates, the seeded city draws
    # exactly the random numbers it drew before they existed.
    "PBI_APBD": ordinal_of(2014, 1),
    "BANSOS_JABAR": ordinal_of(2017, 2),
    "PENDAMPINGAN_LANSIA": ordinal_of(2020, 1),
}

#: The yearly benefit of one enrolment, in rupiah (PIP: by school level, see `_benefit`).
BENEFITS = {
    "PKH": 3_000_000,
    "BPNT": 2_400_000,
    "PBI_JK": 504_000,
    "PIP": 450_000,
    "RUTILAHU": 20_000_000,
    "ATENSI": 1_200_000,
    "PBI_APBD": 504_000,
    "BANSOS_JABAR": 1_200_000,
    "PENDAMPINGAN_LANSIA": 600_000,
}


def _benefit(programme: str, person: Person) -> int:
    """What one enrolment gives a year; PIP pays more the higher the school."""
    if programme == "PIP":
        return 450_000 if person.age <= 12 else 750_000 if person.age <= 15 else 1_800_000
    return BENEFITS[programme]


class EnrolmentMaker:
    """Enrols members of low-decile families, with ids handed out in order."""

    def __init__(self, rng: Random, first_id: int) -> None:
        """A maker drawing from `rng`, numbering enrolments from `first_id`."""
        self.rng = rng
        self.next_id = first_id

    def enrol(self, family: Family, rows: list[Row]) -> None:
        """Append the enrolments of one family's members to `rows`."""
        rng = self.rng
        decile = family.decile
        head = family.head
        if decile <= 3 and any(_pkh_member(m) for m in family.members) and chance(rng, 0.55):
            self._add(rows, head, "PKH", ended=0.12)
        if decile <= 4 and chance(rng, 0.65):
            # West Java's food aid reaches the fourth decile, which BPNT's quota leaves out.
            self._add(rows, head, "BPNT" if decile <= 3 else "BANSOS_JABAR", ended=0.10)
        if decile <= 3 and chance(rng, 0.03):
            self._add(rows, head, "RUTILAHU", ended=1.0)
        pbi = 0.8 if decile <= 4 else 0.25 if decile <= 6 else 0.0
        for member in family.members:
            if pbi and chance(rng, pbi):
                # The city pays the JKN contributions of the deciles above the national quota.
                self._add(rows, member, "PBI_JK" if decile <= 4 else "PBI_APBD", ended=0.08)
            if decile <= 4 and member.student and 6 <= member.age <= 18 and chance(rng, 0.5):
                self._add(rows, member, "PIP", ended=0.0, from_age=6)
            if decile <= 5 and member.disabled and chance(rng, 0.35):
                self._add(rows, member, "ATENSI", ended=0.2)
            elif decile <= 5 and member.age >= 70 and chance(rng, 0.08):
                # Elderly people without a disability are cared for by partner foundations.
                self._add(rows, member, "PENDAMPINGAN_LANSIA", ended=0.2)

    def _add(
        self, rows: list[Row], person: Person, programme: str, *, ended: float, from_age: int = 0
    ) -> None:
        """One enrolment starting after launch and birth; ended with probability `ended`."""
        rng = self.rng
        earliest = max(PROGRAMMES[programme], years_after(person.birth_ordinal, from_age))
        earliest = min(earliest, REFERENCE_ORDINAL - 1)
        started = rng.randint(earliest, REFERENCE_ORDINAL - 1)
        finished = None
        if chance(rng, ended):
            finished = dt.date.fromordinal(rng.randint(started, REFERENCE_ORDINAL - 1))
        rows.append(
            (self.next_id, person.id, programme, dt.date.fromordinal(started), finished,
             _benefit(programme, person), "SEED", None, None, None)
        )  # fmt: skip
        self.next_id += 1


def _pkh_member(person: Person) -> bool:
    """PKH's conditions: children, elderly or disabled members."""
    return person.age < 18 or person.age >= 60 or person.disabled
