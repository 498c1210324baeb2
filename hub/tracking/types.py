"""GraphQL types of tracking, mapped in one place: statuses and dates, never a person."""

from __future__ import annotations

import datetime as dt

import strawberry

from hub.needs.types import NeedStatus
from hub.tracking.queries import Step, Tracked

WIB = dt.timezone(dt.timedelta(hours=7), "WIB")

#: (Indonesian, English) for each status a citizen may see.
LABELS = {
    "REPORTED": ("Dilaporkan", "Reported"),
    "VERIFIED": ("Diverifikasi Dinas Sosial", "Verified by Dinsos"),
    "OPEN": ("Terbuka untuk lembaga mitra", "Open to partner foundations"),
    "PLEDGED": ("Sedang ditangani lembaga mitra", "Pledged by a foundation"),
    "REFERRED": ("Dirujuk ke perangkat daerah", "Referred to an agency"),
    "FULFILLED": ("Bantuan telah diberikan", "Help delivered"),
    "CLOSED": ("Ditutup", "Closed"),
}


@strawberry.type(description="One step of a request's status timeline.")
class TrackingStep:
    status: NeedStatus = strawberry.field(description="The status reached.")
    label_id: str = strawberry.field(description="The status in Indonesian.")
    label_en: str = strawberry.field(description="The status in English.")
    on: dt.date = strawberry.field(description="The date it was reached (Bandung time, WIB).")
    organization: str | None = strawberry.field(
        description="The foundation that pledged it or the agency it was referred to, when "
        "the policy lets the public see it (`Tracking.organization`); null otherwise."
    )

    @classmethod
    def of(cls, step: Step, *, name_organization: bool) -> TrackingStep:
        """Map a step; the organisation only for a pledge or referral, and if allowed."""
        label_id, label_en = LABELS[step.status]
        named = name_organization and step.status in ("PLEDGED", "REFERRED")
        return cls(
            status=NeedStatus(step.status),
            label_id=label_id,
            label_en=label_en,
            on=step.at.astimezone(WIB).date(),
            organization=step.organization_name if named else None,
        )


@strawberry.type(
    description="A reported need as its tracking code shows it: where it stands and how it "
    "got there. No name, NIK, address or description: only statuses and dates."
)
class TrackedRequest:
    status: NeedStatus = strawberry.field(description="Where the request stands now.")
    label_id: str = strawberry.field(description="The current status in Indonesian.")
    label_en: str = strawberry.field(description="The current status in English.")
    category_id: str = strawberry.field(description="What kind of help, in Indonesian.")
    category_en: str = strawberry.field(description="What kind of help, in English.")
    reported_on: dt.date = strawberry.field(description="The date it was reported (WIB).")
    timeline: list[TrackingStep] = strawberry.field(description="Every step, oldest first.")

    @classmethod
    def of(cls, tracked: Tracked, *, name_organization: bool) -> TrackedRequest:
        """Map a tracked need."""
        label_id, label_en = LABELS[tracked.status]
        return cls(
            status=NeedStatus(tracked.status),
            label_id=label_id,
            label_en=label_en,
            category_id=tracked.category_label_id,
            category_en=tracked.category_label_en,
            reported_on=tracked.reported_at.astimezone(WIB).date(),
            timeline=[
                TrackingStep.of(step, name_organization=name_organization) for step in tracked.steps
            ],
        )
