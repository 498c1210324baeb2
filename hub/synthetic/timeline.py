"""A need's life from report to its current status, with the pledges made along the way.

Times are built forward as offsets from the report, then anchored so that the whole story
lies within the activity window before the reference time; an active pledge is anchored near
the reference time so that it has not yet expired then.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from random import Random

from hub.synthetic.clock import ACTIVITY_WINDOW, DAY, HOUR, MINUTE
from hub.synthetic.draw import chance

PLEDGE_DAYS = 14


@dataclass(frozen=True, slots=True)
class Event:
    """One status change, `offset` seconds after the report."""

    offset: int
    from_status: str | None
    to_status: str
    organization_id: int | None
    note: str | None


@dataclass(frozen=True, slots=True)
class PledgeSpan:
    """One pledge, with times as offsets after the report."""

    organization_id: int
    status: str
    pledged: int
    ended: int | None

    @property
    def expires(self) -> int:
        """Pledges lapse two weeks after they are made."""
        return self.pledged + PLEDGE_DAYS * DAY


@dataclass(slots=True)
class Timeline:
    """Everything that happened to one need, and when relative to its report."""

    status: str
    events: list[Event] = field(default_factory=list)
    pledges: list[PledgeSpan] = field(default_factory=list)
    verified: int | None = None
    opened: int | None = None
    fulfilled: int | None = None
    closed: int | None = None
    holder: int | None = None
    #: Seconds between the report and the reference time, set by `anchor`.
    reported_before: int = 0

    @property
    def last(self) -> int:
        """Offset of the latest event."""
        return self.events[-1].offset

    def step(self, offset: int, to_status: str, org: int | None, note: str | None = None) -> int:
        """Record a change to `to_status` at `offset`; return the offset."""
        previous = self.events[-1].to_status if self.events else None
        self.events.append(Event(offset, previous, to_status, org, note))
        return offset


@dataclass(frozen=True, slots=True)
class Actors:
    """Who acts on one need."""

    reporter: int
    verifier: int
    #: The foundation that pledges (for pledged and fulfilled needs).
    pledger: int
    #: A foundation whose earlier pledge lapsed or was withdrawn.
    earlier_pledger: int
    #: The agency a referred need goes to, and its code for the note.
    referral: tuple[int, str]


def build(rng: Random, status: str, actors: Actors) -> Timeline:
    """The timeline of a need that has reached `status`, anchored before the reference time."""
    line = Timeline(status)
    t = line.step(0, "REPORTED", actors.reporter)
    if status != "REPORTED":
        _advance(rng, line, actors, t)
    _anchor(rng, line)
    return line


def _advance(rng: Random, line: Timeline, actors: Actors, t: int) -> None:
    """Append the steps after the report."""
    status = line.status
    t += rng.randint(2 * HOUR, 10 * DAY)
    if status == "CLOSED" and chance(rng, 0.5):
        line.closed = line.step(t, "CLOSED", actors.verifier, "Tidak memenuhi kriteria")
        return
    line.verified = line.step(t, "VERIFIED", actors.verifier)
    if status == "VERIFIED":
        return
    t += rng.randint(10 * MINUTE, 3 * DAY)
    line.opened = line.step(t, "OPEN", actors.verifier)
    if status in ("OPEN", "PLEDGED", "FULFILLED") and chance(rng, 0.15):
        t = _lapsed_pledge(rng, line, actors.earlier_pledger, t)
    if status == "OPEN":
        return
    t += rng.randint(DAY, 60 * DAY)
    if status == "REFERRED":
        agency, code = actors.referral
        line.step(t, "REFERRED", actors.verifier, f"Dirujuk ke {code}")
        line.holder = agency
    elif status == "CLOSED":
        line.closed = line.step(t, "CLOSED", actors.verifier, "Sudah terbantu dari sumber lain")
    else:
        line.step(t, "PLEDGED", actors.pledger)
        line.holder = actors.pledger
        if status == "FULFILLED":
            done = line.step(t + rng.randint(DAY, 13 * DAY), "FULFILLED", actors.pledger)
            line.fulfilled = done
            line.pledges.append(PledgeSpan(actors.pledger, "FULFILLED", t, done))
        else:
            line.pledges.append(PledgeSpan(actors.pledger, "ACTIVE", t, None))


def _lapsed_pledge(rng: Random, line: Timeline, org: int, t: int) -> int:
    """An earlier pledge that was withdrawn or expired; return when the need reopened."""
    pledged = line.step(t + rng.randint(DAY, 45 * DAY), "PLEDGED", org)
    if chance(rng, 0.5):
        ended = line.step(
            pledged + rng.randint(HOUR, 13 * DAY), "OPEN", org, "Lembaga membatalkan janji bantuan"
        )
        line.pledges.append(PledgeSpan(org, "RELEASED", pledged, ended))
    else:
        ended = line.step(pledged + PLEDGE_DAYS * DAY, "OPEN", None, "Janji bantuan kedaluwarsa")
        line.pledges.append(PledgeSpan(org, "EXPIRED", pledged, ended))
    return ended


def _anchor(rng: Random, line: Timeline) -> None:
    """Place the timeline so its last event lies before the reference time."""
    last = line.last
    if line.status == "PLEDGED":
        # Still active at the reference time: pledged within the last two weeks.
        line.reported_before = last + rng.randint(HOUR, (PLEDGE_DAYS - 1) * DAY)
    elif line.status in ("REPORTED", "VERIFIED"):
        # A verification backlog is weeks old, not years.
        line.reported_before = last + rng.randint(HOUR, 60 * DAY)
    else:
        line.reported_before = last + rng.randint(HOUR, ACTIVITY_WINDOW - last)
