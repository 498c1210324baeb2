"""GraphQL types of the registry domain (households and citizens), mapped in one place."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from sqlalchemy.engine import Row

from hub.federation import fields as connected
from hub.graphql.relay import Node, to_global_id
from hub.regions.types import Region

if TYPE_CHECKING:
    from hub.needs.types import Need
    from hub.programs.types import Enrolment

NeedRef = Annotated["Need", strawberry.lazy("hub.needs.types")]
EnrolmentRef = Annotated["Enrolment", strawberry.lazy("hub.programs.types")]


@strawberry.enum(description="Sex as recorded on the KTP.")
class Sex(Enum):
    F = strawberry.enum_value("F", description="Female (perempuan).")
    M = strawberry.enum_value("M", description="Male (laki-laki).")


@strawberry.enum(description="Relationship to the head of the household, as on the KK.")
class Relationship(Enum):
    HEAD = strawberry.enum_value("HEAD", description="Kepala keluarga.")
    SPOUSE = strawberry.enum_value("SPOUSE", description="Istri / suami.")
    CHILD = strawberry.enum_value("CHILD", description="Anak.")
    PARENT = strawberry.enum_value("PARENT", description="Orang tua.")
    GRANDCHILD = strawberry.enum_value("GRANDCHILD", description="Cucu.")
    IN_LAW = strawberry.enum_value("IN_LAW", description="Menantu / mertua.")
    OTHER = strawberry.enum_value("OTHER", description="Famili lain.")


def age_on(birth_date: dt.date, today: dt.date) -> int:
    """Whole years between `birth_date` and `today`."""
    return (
        today.year
        - birth_date.year
        - ((today.month, today.day) < (birth_date.month, birth_date.day))
    )


_AGE_BANDS = ((4, "0-4"), (17, "5-17"), (29, "18-29"), (44, "30-44"), (59, "45-59"))


def age_band(age: int) -> str:
    """The band an age falls in; bands match the life stages programmes are aimed at."""
    for upper, label in _AGE_BANDS:
        if age <= upper:
            return label
    return "60+"


@strawberry.type(description="A family registered on one KK (Kartu Keluarga).")
class Household(Node):
    kk_number: str | None = strawberry.field(
        description="Current 16-digit KK number; it changes when a family moves or splits. "
        "Personal: masked (`3273********0012`) or null unless your role sees it in full."
    )
    dtks_id: str | None = strawberry.field(description="Id in DTKS, when the family is in it.")
    address: str | None = strawberry.field(
        description="Street address. Personal: null unless your role sees it in full (a "
        "foundation: while it holds a pledge on a member's need, with a purpose); the "
        "kelurahan is always given."
    )
    rt: str | None = strawberry.field(
        description="Rukun Tetangga number. Personal, like `address`."
    )
    rw: str | None = strawberry.field(description="Rukun Warga number. Personal, like `address`.")
    welfare_decile: int | None = strawberry.field(
        description="DTKS welfare decile, 1 (poorest tenth) to 10."
    )
    source: str = strawberry.field(description="Which system supplied the record.")
    created_at: dt.datetime = strawberry.field(description="When the hub first recorded it.")
    updated_at: dt.datetime = strawberry.field(description="When it last changed.")
    kelurahan: Region | None = strawberry.field(default=None, description="Kelurahan of residence.")
    kecamatan: Region | None = strawberry.field(default=None, description="Kecamatan of residence.")
    members: list[Citizen] | None = strawberry.field(
        default=None, description="Members, head first."
    )
    pk: strawberry.Private[int]
    kelurahan_code: strawberry.Private[str]
    kecamatan_code: strawberry.Private[str]
    #: Set once the field layer has masked this object for the request.
    access_applied: strawberry.Private[bool] = False

    @classmethod
    def from_row(cls, row: Row[Any]) -> Household:
        """Map a `households` row."""
        return cls(
            id=strawberry.ID(to_global_id("Household", row.id)),
            kk_number=row.kk_number,
            dtks_id=row.dtks_id,
            address=row.address,
            rt=row.rt,
            rw=row.rw,
            welfare_decile=row.welfare_decile,
            source=row.source,
            created_at=row.created_at,
            updated_at=row.updated_at,
            pk=row.id,
            kelurahan_code=row.kelurahan_code,
            kecamatan_code=row.kecamatan_code,
        )


@strawberry.type(description="A resident of Kota Bandung, identified by NIK.")
class Citizen(Node):
    nik: str | None = strawberry.field(
        description="Nomor Induk Kependudukan (16 digits). Personal: masked as "
        "`3273********0009` or null unless your role sees it in full."
    )
    full_name: str | None = strawberry.field(
        description="Full name as on the KTP. Personal: initials (`S. N.`) when masked, null "
        "when your role has no access; a foundation sees it in full only while it holds a "
        "pledge on the person's need and states a purpose."
    )
    birth_date: dt.date | None = strawberry.field(
        description="Date of birth. Personal: null unless your role sees it in full."
    )
    age: int | None = strawberry.field(
        description="Age in whole years today. Personal: null unless your role sees it in "
        "full; `ageBand` is always given."
    )
    age_band: str = strawberry.field(
        description="Age band (`0-4`, `5-17`, `18-29`, `30-44`, `45-59`, `60+`): not personal."
    )
    sex: Sex = strawberry.field(description="Sex.")
    relationship: Relationship = strawberry.field(
        description="Relationship to the head of the household."
    )
    has_disability: bool = strawberry.field(description="Recorded as a person with disability.")
    has_chronic_illness: bool = strawberry.field(description="Recorded with a chronic illness.")
    education: str | None = strawberry.field(description="Highest education reached.")
    occupation: str | None = strawberry.field(description="Occupation.")
    phone: str | None = strawberry.field(
        description="Phone number. Personal: null unless your role sees it in full (a "
        "foundation: while it holds a pledge on the person's need, with a purpose)."
    )
    household: Household | None = strawberry.field(
        default=None, description="The household (KK) the person belongs to."
    )
    needs: list[NeedRef] | None = strawberry.field(
        default=None, description="The person's needs, newest first."
    )
    enrolments: list[EnrolmentRef] | None = strawberry.field(
        default=None, description="Programme enrolments, newest first."
    )
    # Agencies' data through their connectors (hub.federation), batched per request.
    health_coverage = connected.health_coverage
    schooling = connected.schooling
    pk: strawberry.Private[int]
    household_id: strawberry.Private[int]
    #: Set once the field layer has masked this object for the request.
    access_applied: strawberry.Private[bool] = False

    @classmethod
    def from_row(cls, row: Row[Any], today: dt.date | None = None) -> Citizen:
        """Map a `citizens` row; `age` is counted up to `today` (default: the clock)."""
        return cls(
            id=strawberry.ID(to_global_id("Citizen", row.id)),
            nik=row.nik,
            full_name=row.full_name,
            birth_date=row.birth_date,
            age=(age := age_on(row.birth_date, today or dt.date.today())),
            age_band=age_band(age),
            sex=Sex(row.sex),
            relationship=Relationship(row.relationship),
            has_disability=row.has_disability,
            has_chronic_illness=row.has_chronic_illness,
            education=row.education,
            occupation=row.occupation,
            phone=row.phone,
            pk=row.id,
            household_id=row.household_id,
        )
