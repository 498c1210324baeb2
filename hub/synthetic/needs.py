"""Needs of the registry's citizens, their status history and the pledges made on them."""

from __future__ import annotations

from dataclasses import dataclass, field
from random import Random

from hub.synthetic import timeline
from hub.synthetic.clock import seconds_before
from hub.synthetic.contributions import ContributionMaker
from hub.synthetic.draw import Weighted, chance
from hub.synthetic.need_content import describe
from hub.synthetic.organizations import FoundationIndex
from hub.synthetic.people import Family, Person
from hub.synthetic.rows import Row

NEED_COLUMNS = (
    "id", "citizen_id", "category_code", "ppks_code", "description", "severity", "status",
    "kecamatan_code", "kelurahan_code", "reported_by_organization_id",
    "verified_by_organization_id", "holder_organization_id", "reported_at", "verified_at",
    "opened_at", "fulfilled_at", "closed_at", "updated_at",
)  # fmt: skip
STATUS_CHANGE_COLUMNS = (
    "id", "need_id", "from_status", "to_status", "changed_at", "organization_id", "note",
)  # fmt: skip
PLEDGE_COLUMNS = (
    "id",
    "need_id",
    "organization_id",
    "status",
    "pledged_at",
    "expires_at",
    "ended_at",
)

#: Share of citizens with a need, by household decile (index 1-10), before personal factors.
_DECILE_RATE = (0.0, 0.22, 0.19, 0.16, 0.13, 0.095, 0.07, 0.05, 0.04, 0.035, 0.025)
_STATUS = Weighted(
    [("OPEN", 40.0), ("REPORTED", 8.0), ("VERIFIED", 7.0), ("PLEDGED", 12.0), ("FULFILLED", 20.0),
     ("REFERRED", 6.0), ("CLOSED", 7.0)]
)  # fmt: skip
#: The agency that reports a need of each domain, and takes it over when referred.
AGENCY_OF_DOMAIN = {
    "EDUCATION": "DISDIK",
    "HEALTH": "DINKES",
    "HOUSING": "DISPERKIM",
    "CIVIL_DOCUMENTS": "DISDUKCAPIL",
    "PROTECTION": "DP3A",
    "EMPOWERMENT": "DISNAKER",
    "FOOD": "DINSOS",
    "REHABILITATION": "DINSOS",
}
VERIFIER = "DINSOS"


@dataclass(slots=True)
class NeedRows:
    """Rows of the need tables and contributions, appended to per family."""

    needs: list[Row] = field(default_factory=list)
    status_changes: list[Row] = field(default_factory=list)
    pledges: list[Row] = field(default_factory=list)
    contributions: list[Row] = field(default_factory=list)


def need_probability(person: Person, decile: int) -> float:
    """How likely this citizen is to have a need on record."""
    rate = _DECILE_RATE[decile]
    if person.age >= 60:
        rate *= 1.6
    if person.disabled:
        rate *= 2.5
    if person.chronic:
        rate *= 1.3
    return min(rate, 0.9)


@dataclass(slots=True)
class NeedIds:
    """The next free id of each need table."""

    need: int
    status_change: int
    pledge: int


class NeedMaker:
    """Decides who has a need and generates its whole story."""

    def __init__(
        self,
        rng: Random,
        ids: NeedIds,
        agencies: dict[str, int],
        foundations: FoundationIndex,
        contributions: ContributionMaker,
    ) -> None:
        """A maker with the agencies' ids by code and the active foundations."""
        self.rng = rng
        self.ids = ids
        self.agencies = agencies
        self.foundations = foundations
        self.contributions = contributions

    def consider(self, family: Family, rows: NeedRows) -> None:
        """Give some members of `family` a need, with history, pledges and deliveries."""
        rng = self.rng
        for person in family.members:
            if chance(rng, need_probability(person, family.decile)):
                self._need(person, family, rows)

    def _need(self, person: Person, family: Family, rows: NeedRows) -> None:
        """One need of `person`, appended to `rows`."""
        rng = self.rng
        content = describe(rng, person, family)
        kecamatan = family.kelurahan.kecamatan_code
        agency_code = AGENCY_OF_DOMAIN[content.category]
        reporter = (
            self.foundations.near(rng, kecamatan)
            if chance(rng, 0.15)
            else self.agencies[agency_code]
        )
        actors = timeline.Actors(
            reporter=reporter,
            verifier=self.agencies[VERIFIER],
            pledger=self.foundations.pick(rng, kecamatan, content.category, content.ppks),
            earlier_pledger=self.foundations.pick(rng, kecamatan, content.category, content.ppks),
            referral=(self.agencies[agency_code], agency_code),
        )
        line = timeline.build(rng, _STATUS.pick(rng), actors)
        need_id = self.ids.need
        self.ids.need += 1
        base = line.reported_before

        def at(offset: int | None) -> object:
            return None if offset is None else seconds_before(base - offset)

        for event in line.events:
            rows.status_changes.append(
                (self.ids.status_change, need_id, event.from_status, event.to_status,
                 at(event.offset), event.organization_id, event.note)
            )  # fmt: skip
            self.ids.status_change += 1
        for pledge in line.pledges:
            rows.pledges.append(
                (self.ids.pledge, need_id, pledge.organization_id, pledge.status,
                 at(pledge.pledged), at(pledge.expires), at(pledge.ended))
            )  # fmt: skip
            self.ids.pledge += 1
        rows.needs.append(
            (need_id, person.id, content.category, content.ppks, content.description,
             content.severity, line.status, kecamatan, family.kelurahan.code, reporter,
             actors.verifier if line.verified is not None else None, line.holder, at(0),
             at(line.verified), at(line.opened), at(line.fulfilled), at(line.closed),
             at(line.last))
        )  # fmt: skip
        if line.fulfilled is not None:
            self.contributions.deliver(
                rows.contributions,
                need_id=need_id,
                citizen_id=person.id,
                organization_id=actors.pledger,
                category=content.category,
                kecamatan=kecamatan,
                delivered=seconds_before(base - line.fulfilled),
            )
