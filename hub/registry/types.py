"""GraphQL types of the registry domain (households and citizens), mapped in one place."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from sqlalchemy.engine import Row

from hub.graphql.relay import Node, to_global_id
from hub.graphql.scalars import NIK
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


@strawberry.type(description="A family registered on one KK (Kartu Keluarga).")
class Household(Node):
    kk_number: str = strawberry.field(
        description="Current 16-digit KK number. It changes when a family moves or splits."
    )
    dtks_id: str | None = strawberry.field(description="Id in DTKS, when the family is in it.")
    address: str = strawberry.field(description="Street address.")
    rt: str = strawberry.field(description="Rukun Tetangga number.")
    rw: str = strawberry.field(description="Rukun Warga number.")
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
    nik: NIK = strawberry.field(description="Nomor Induk Kependudukan.")
    full_name: str = strawberry.field(description="Full name as on the KTP.")
    birth_date: dt.date = strawberry.field(description="Date of birth.")
    age: int = strawberry.field(description="Age in whole years today.")
    sex: Sex = strawberry.field(description="Sex.")
    relationship: Relationship = strawberry.field(
        description="Relationship to the head of the household."
    )
    has_disability: bool = strawberry.field(description="Recorded as a person with disability.")
    has_chronic_illness: bool = strawberry.field(description="Recorded with a chronic illness.")
    education: str | None = strawberry.field(description="Highest education reached.")
    occupation: str | None = strawberry.field(description="Occupation.")
    phone: str | None = strawberry.field(description="Phone number.")
    household: Household | None = strawberry.field(
        default=None, description="The household (KK) the person belongs to."
    )
    needs: list[NeedRef] | None = strawberry.field(
        default=None, description="The person's needs, newest first."
    )
    enrolments: list[EnrolmentRef] | None = strawberry.field(
        default=None, description="Programme enrolments, newest first."
    )
    pk: strawberry.Private[int]
    household_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Row[Any], today: dt.date | None = None) -> Citizen:
        """Map a `citizens` row; `age` is counted up to `today` (default: the clock)."""
        return cls(
            id=strawberry.ID(to_global_id("Citizen", row.id)),
            nik=row.nik,
            full_name=row.full_name,
            birth_date=row.birth_date,
            age=age_on(row.birth_date, today or dt.date.today()),
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
