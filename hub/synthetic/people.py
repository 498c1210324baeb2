"""Households and their members: KK composition, ages, names, NIKs and life details."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from random import Random

from hub.synthetic.clock import (
    DAY,
    REFERENCE_ORDINAL,
    YEAR_DAYS,
    seconds_before,
    years_after,
    years_before,
)
from hub.synthetic.draw import Weighted, chance, digits
from hub.synthetic.identity import FIRST_KK_ORDINAL, NumberIssuer
from hub.synthetic.names import WordLists, full_name, street_address
from hub.synthetic.places import City, Kelurahan
from hub.synthetic.rows import Row
from hub.synthetic.schooling import education_for, occupation_for

MAX_AGE = 96

#: Members per KK: the city averages about 3.2.
_SIZE = Weighted(
    [(1, 13.0), (2, 22.0), (3, 26.0), (4, 21.0), (5, 10.0), (6, 5.0), (7, 2.0), (8, 1.0)]
)
_HEAD_AGE = Weighted(
    [((20, 29), 12.0), ((30, 39), 26.0), ((40, 49), 26.0), ((50, 59), 19.0), ((60, 69), 11.0),
     ((70, 85), 6.0)]
)  # fmt: skip
#: People living alone are mostly young workers or widowed elders.
_SINGLE_AGE = Weighted([((20, 29), 30.0), ((30, 59), 30.0), ((60, 90), 40.0)])
#: DTKS skews poor: the registry was built to find the bottom deciles.
_DECILE = Weighted(
    [(1, 16.0), (2, 15.0), (3, 14.0), (4, 12.0), (5, 10.0), (6, 9.0), (7, 8.0), (8, 7.0),
     (9, 5.0), (10, 4.0)]
)  # fmt: skip
_PHONE_PREFIXES = ("11", "12", "13", "21", "22", "23", "51", "52", "53", "55", "56", "57", "58",
                   "77", "78", "81", "82", "83", "95", "96", "97", "98", "99")  # fmt: skip
_KK_ORDER = {"HEAD": 0, "SPOUSE": 1, "CHILD": 2, "IN_LAW": 3, "GRANDCHILD": 4, "PARENT": 5}

#: Provenance of a seeded record: version 1, made by the seed, not (yet) listed by an import.
PROVENANCE_COLUMNS = (
    "version", "changed_via", "changed_by_organization_id", "changed_by_client_id",
    "changed_by_import_id", "changed_fields", "dtks_listed", "delisted_on",
)  # fmt: skip
SEEDED = (1, "SEED", None, None, None, None, False, None)
HOUSEHOLD_COLUMNS = (
    "id", "kk_number", "dtks_id", "address", "rt", "rw", "kelurahan_code", "kecamatan_code",
    "welfare_decile", "source", "created_at", "updated_at", *PROVENANCE_COLUMNS,
)  # fmt: skip
KK_NUMBER_COLUMNS = ("kk_number", "household_id", "valid_from", "valid_until")
CITIZEN_COLUMNS = (
    "id", "nik", "full_name", "birth_date", "sex", "household_id", "relationship",
    "has_disability", "has_chronic_illness", "education", "occupation", "phone", "created_at",
    "updated_at", "ppks_code", "household_since", *PROVENANCE_COLUMNS,
)  # fmt: skip


def _birth_ordinal(rng: Random, age: int) -> int:
    """A birth date (day ordinal) of someone exactly `age` years old on the reference date."""
    latest = years_before(age)
    return latest - rng.randrange(latest - years_before(age + 1))


@dataclass(slots=True)
class Person:
    """What the later stages (programmes, needs) need to know about a citizen."""

    id: int
    age: int
    female: bool
    relationship: str
    birth_ordinal: int
    disabled: bool
    chronic: bool
    #: In school or college now.
    student: bool


@dataclass(slots=True)
class Family:
    """One generated household and its members, alive only while its batch is built."""

    id: int
    kelurahan: Kelurahan
    decile: int
    members: list[Person]

    @property
    def head(self) -> Person:
        """The head of the family (always the first member)."""
        return self.members[0]


@dataclass(slots=True)
class FamilyRows:
    """Rows of the registry tables, appended to per family."""

    households: list[Row]
    kk_numbers: list[Row]
    citizens: list[Row]


class FamilyMaker:
    """Generates households one at a time from the seeded generator."""

    def __init__(self, rng: Random, city: City, lists: WordLists) -> None:
        """A maker drawing from `rng`, settling families in `city`."""
        self.rng = rng
        self.city = city
        self.lists = lists
        self.issuer = NumberIssuer(list(city.kecamatan_codes))
        self._made = 0

    def make(self, family_id: int, first_citizen_id: int, limit: int, rows: FamilyRows) -> Family:
        """One family of at most `limit` members; its rows are appended to `rows`."""
        rng = self.rng
        if self._made < len(self.city.settlement_order):
            kelurahan = self.city.settlement_order[self._made]
        else:
            kelurahan = self.city.by_population.pick(rng)
        self._made += 1
        decile = min(10, max(1, _DECILE.pick(rng) - kelurahan.affluence))
        shape = self._shape(_SIZE.pick(rng))[:limit]
        head_birth = _birth_ordinal(rng, shape[0][1])
        earliest = max(FIRST_KK_ORDINAL, years_after(head_birth, 17))
        issued = dt.date.fromordinal(rng.randint(earliest, REFERENCE_ORDINAL - 1))
        # Registered in DTKS within the last three years, and not before the KK was issued.
        since_issue = REFERENCE_ORDINAL - issued.toordinal()
        registered = seconds_before(rng.randint(DAY, min(3 * YEAR_DAYS, since_issue) * DAY))
        kecamatan = kelurahan.kecamatan_code
        kk_number = self.issuer.kk_number(kecamatan, issued)
        rows.households.append(
            (family_id, kk_number, f"3273{family_id:012d}", street_address(rng, self.lists),
             f"{rng.randint(1, 15):03d}", f"{rng.randint(1, 12):03d}", kelurahan.code, kecamatan,
             decile, "SEED", registered, registered, *SEEDED)
        )  # fmt: skip
        rows.kk_numbers.append((kk_number, family_id, issued, None))
        members: list[Person] = []
        for offset, (relationship, age, female) in enumerate(shape):
            birth = head_birth if offset == 0 else _birth_ordinal(rng, age)
            person = self._person(first_citizen_id + offset, relationship, age, female, birth)
            members.append(person)
            rows.citizens.append(
                self._citizen_row(person, family_id, kecamatan, decile, registered)
            )
        return Family(family_id, kelurahan, decile, members)

    def _shape(self, size: int) -> list[tuple[str, int, bool]]:
        """(relationship, age, female) of each member, head first, in KK order."""
        rng = self.rng
        if size == 1:
            return [("HEAD", rng.randint(*_SINGLE_AGE.pick(rng)), chance(rng, 0.55))]
        married = chance(rng, 0.86)
        head_female = chance(rng, 0.03 if married else 0.7)
        head_age = rng.randint(*_HEAD_AGE.pick(rng))
        if size >= 5:
            # Large families are rarely headed by someone in their twenties.
            head_age = max(head_age, rng.randint(28, 40))
        members = [("HEAD", head_age, head_female)]
        mother_age = head_age
        if married:
            gap = rng.randint(-2, 8)
            spouse_age = min(MAX_AGE, head_age + gap) if head_female else max(18, head_age - gap)
            members.append(("SPOUSE", spouse_age, not head_female))
            mother_age = head_age if head_female else spouse_age
        elif not head_female:
            mother_age = max(18, head_age - rng.randint(0, 8))
        room = size - len(members)
        if room and head_age <= 62 and chance(rng, 0.10):
            members.append(("PARENT", head_age + rng.randint(20, 34), chance(rng, 0.68)))
            room -= 1
        if room and chance(rng, 0.03):
            members.append(("OTHER", rng.randint(3, 40), chance(rng, 0.5)))
            room -= 1
        grandchildren = 0
        if room >= 2 and head_age >= 48 and chance(rng, 0.4):
            grandchildren = rng.randint(1, min(3, room - 1))
        eldest = self._children(members, mother_age, room - grandchildren)
        if grandchildren:
            self._grandchildren(members, head_age, eldest, grandchildren)
        members.sort(key=lambda m: _KK_ORDER.get(m[0], 6))
        return [(r, min(age, MAX_AGE), f) for r, age, f in members]

    def _children(self, members: list[tuple[str, int, bool]], mother_age: int, count: int) -> int:
        """Append `count` children of a mother aged `mother_age`; return the eldest's age."""
        rng = self.rng
        eldest = max(0, mother_age - rng.randint(19, 32)) if count else -1
        age = eldest
        for _ in range(count):
            members.append(("CHILD", age, chance(rng, 0.5)))
            # Younger parents of many children: the last ones are twins or close in age.
            age = max(0, age - rng.randint(1, 5))
        return eldest

    def _grandchildren(
        self, members: list[tuple[str, int, bool]], head_age: int, eldest: int, count: int
    ) -> None:
        """Append `count` grandchildren, and sometimes the in-law who is their parent."""
        rng = self.rng
        parent_age = eldest if eldest >= 19 else head_age - rng.randint(20, 30)
        if count >= 2 and eldest >= 19 and chance(rng, 0.35):
            members.append(("IN_LAW", max(18, parent_age + rng.randint(-3, 5)), chance(rng, 0.5)))
            count -= 1
        age = parent_age - rng.randint(19, 30)
        for _ in range(count):
            members.append(("GRANDCHILD", max(age, 0), chance(rng, 0.5)))
            age -= rng.randint(1, 4)

    def _person(
        self, citizen_id: int, relationship: str, age: int, female: bool, birth: int
    ) -> Person:
        """The traits of one member that the later stages draw on."""
        rng = self.rng
        disabled = chance(rng, 0.012 + (0.05 if age >= 60 else 0.0) + (0.08 if age >= 75 else 0.0))
        chronic = chance(rng, 0.035 if age < 40 else 0.10 if age < 60 else 0.28)
        return Person(citizen_id, age, female, relationship, birth, disabled, chronic, False)

    def _citizen_row(
        self, person: Person, family_id: int, kecamatan: str, decile: int, registered: dt.datetime
    ) -> Row:
        """The `citizens` row of `person`, filling in schooling, work and identity."""
        rng = self.rng
        female = person.female
        birth_date = dt.date.fromordinal(person.birth_ordinal)
        # About one in ten was first registered in another kecamatan and moved here since.
        origin = rng.choice(self.city.kecamatan_codes) if chance(rng, 0.1) else kecamatan
        nik = self.issuer.nik(origin, birth_date, female=female)
        education, student = education_for(rng, person.age, decile)
        person.student = student
        occupation = occupation_for(
            rng, person.age, female=female, education=education, decile=decile,
            student=student, relationship=person.relationship,
        )  # fmt: skip
        phone = None
        if person.age >= 17 and chance(rng, 0.75 if person.relationship == "HEAD" else 0.5):
            phone = f"08{rng.choice(_PHONE_PREFIXES)}{digits(rng, rng.randint(7, 9))}"
        return (
            person.id, nik, full_name(rng, self.lists, female=female), birth_date,
            "F" if female else "M", family_id, person.relationship, person.disabled,
            person.chronic, education, occupation, phone, registered, registered, None, None,
            *SEEDED,
        )  # fmt: skip
