"""GraphQL inputs and payloads of the registry writes agencies push (`upsertCitizen`, …)."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from hub.graphql.scalars import Rupiah
from hub.registry import errors
from hub.registry.types import Citizen, Household, Relationship, Sex

if TYPE_CHECKING:
    from hub.programs.types import Enrolment

EnrolmentRef = Annotated["Enrolment", strawberry.lazy("hub.programs.types")]

#: Most items one batch mutation takes.
MAX_BATCH = 500


@strawberry.enum(description="Why a registry write was refused.")
class RegistryErrorCode(Enum):
    INVALID_INPUT = strawberry.enum_value(
        "INVALID_INPUT",
        description="A value is out of range or malformed, a new record lacks a required "
        "field, or a batch is empty or longer than 500; the message says which and what is "
        "accepted.",
    )
    INVALID_NIK = strawberry.enum_value(
        "INVALID_NIK",
        description="The NIK is not 16 digits of the right structure, or its digits 7-12 do "
        "not encode the birth date (DD+40 for women).",
    )
    INVALID_KK = strawberry.enum_value(
        "INVALID_KK", description="The KK number is not 16 digits with an issue date DDMMYY."
    )
    REGION_NOT_FOUND = strawberry.enum_value(
        "REGION_NOT_FOUND", description="The kelurahan code is not one of Kota Bandung's."
    )
    HOUSEHOLD_NOT_FOUND = strawberry.enum_value(
        "HOUSEHOLD_NOT_FOUND",
        description="No household has the DTKS id or KK number given; push it first.",
    )
    CITIZEN_NOT_FOUND = strawberry.enum_value(
        "CITIZEN_NOT_FOUND", description="The hub has no one with this NIK."
    )
    PROGRAM_NOT_FOUND = strawberry.enum_value(
        "PROGRAM_NOT_FOUND", description="No programme has this code; `programs` lists them."
    )
    CONFLICT = strawberry.enum_value(
        "CONFLICT", description="The DTKS id or KK number belongs to another household."
    )
    STALE_WRITE = strawberry.enum_value(
        "STALE_WRITE",
        description="The record changed since the version you read, or you sent no "
        "`expectedVersion` for a record that exists. Read it again (its `version`) and retry.",
    )
    NOT_ENROLLED = strawberry.enum_value(
        "NOT_ENROLLED", description="The person has no running enrolment in the programme."
    )


@strawberry.type(description="An expected failure of a registry write.")
class RegistryError:
    code: RegistryErrorCode = strawberry.field(description="What kind of failure.")
    message: str = strawberry.field(
        description="What was wrong and what is accepted, in words a person can act on."
    )

    @classmethod
    def of(cls, error: errors.RegistryError) -> RegistryError:
        """Map a command's error."""
        return cls(code=RegistryErrorCode[error.code.name], message=error.message)


def batch_error(count: int) -> RegistryError | None:
    """The refusal of a batch of `count` items, or None when its size is allowed."""
    if 1 <= count <= MAX_BATCH:
        return None
    return RegistryError(
        code=RegistryErrorCode.INVALID_INPUT,
        message=f"a batch takes 1 to {MAX_BATCH} items; got {count}",
    )


@strawberry.input(
    description="A household (KK) as an agency's system holds it. An existing household is "
    "found by `dtksId`, else by `kkNumber`; updating one needs `expectedVersion`."
)
class HouseholdInput:
    kk_number: str = strawberry.field(
        description="The current 16-digit KK number. When it differs from the hub's, the old "
        "one is kept in the household's KK history."
    )
    dtks_id: str | None = strawberry.field(
        default=None, description="The household's DTKS id, when it is in DTKS."
    )
    address: str = strawberry.field(description="Street address, at most 200 characters.")
    rt: str = strawberry.field(description="Rukun Tetangga number, 1 to 999.")
    rw: str = strawberry.field(description="Rukun Warga number, 1 to 999.")
    kelurahan: str = strawberry.field(
        description="Kemendagri code of the kelurahan (`32.73.02.1006`; see `regions`)."
    )
    welfare_decile: int | None = strawberry.field(
        default=None, description="DTKS welfare decile, 1 (poorest tenth) to 10."
    )
    expected_version: int | None = strawberry.field(
        default=None,
        description="The household's `version` as you read it; required to update an "
        "existing household (else STALE_WRITE), omitted to create one.",
    )


@strawberry.input(description="Which household: by DTKS id or by current KK number.")
class HouseholdKey:
    dtks_id: str | None = strawberry.field(default=None, description="The DTKS id.")
    kk_number: str | None = strawberry.field(default=None, description="The KK number.")


@strawberry.input(
    description="A person as an agency's system holds them, found by NIK. Creating needs "
    "every field but the optional ones; updating needs `expectedVersion`, and a field left "
    "out (or null) keeps its value."
)
class CitizenInput:
    nik: str = strawberry.field(
        description="NIK, 16 digits; digits 7-12 must encode `birthDate` (DD+40 for women). A "
        "string, so that one malformed NIK fails its item only, not the whole batch."
    )
    full_name: str | None = strawberry.field(default=None, description="Full name, as on the KTP.")
    birth_date: dt.date | None = strawberry.field(default=None, description="Date of birth.")
    sex: Sex | None = strawberry.field(default=None, description="Sex.")
    relationship: Relationship | None = strawberry.field(
        default=None, description="Relationship to the head of the household."
    )
    household: HouseholdKey | None = strawberry.field(
        default=None,
        description="The person's household; a different one than the hub's is a move, and "
        "the household left is kept in the person's history.",
    )
    has_disability: bool | None = strawberry.field(
        default=None, description="Recorded as a person with disability."
    )
    has_chronic_illness: bool | None = strawberry.field(
        default=None, description="Recorded with a chronic illness."
    )
    education: str | None = strawberry.field(default=None, description="Highest education.")
    occupation: str | None = strawberry.field(default=None, description="Occupation.")
    phone: str | None = strawberry.field(default=None, description="Phone number.")
    expected_version: int | None = strawberry.field(
        default=None,
        description="The person's `version` as you read it; required to update (else "
        "STALE_WRITE), omitted to create.",
    )


@strawberry.input(description="Enrol a person in a programme.")
class EnrollInput:
    nik: str = strawberry.field(description="The person's NIK.")
    program: str = strawberry.field(description="Programme code (`PKH`, `PBI_APBD`, …).")
    started_on: dt.date = strawberry.field(description="First day of the enrolment.")
    benefit: Rupiah | None = strawberry.field(
        default=None, description="What the person receives a year, in whole rupiah."
    )


@strawberry.input(description="End a person's running enrolment in a programme.")
class EndEnrollmentInput:
    nik: str = strawberry.field(description="The person's NIK.")
    program: str = strawberry.field(description="Programme code.")
    ended_on: dt.date = strawberry.field(description="Last day of the enrolment.")


@strawberry.type(description="The result of writing one household.")
class HouseholdPayload:
    household: Household | None = strawberry.field(
        default=None, description="The household after the write; null when it was refused."
    )
    created: bool = strawberry.field(default=False, description="True when the write created it.")
    changed_fields: list[str] = strawberry.field(
        default_factory=list,
        description="What an update changed (GraphQL names); empty for a create or no change.",
    )
    errors: list[RegistryError] = strawberry.field(
        default_factory=list, description="Why the write was refused; empty on success."
    )


@strawberry.type(description="The result of writing one person.")
class CitizenPayload:
    citizen: Citizen | None = strawberry.field(
        default=None, description="The person after the write; null when it was refused."
    )
    created: bool = strawberry.field(default=False, description="True when the write created it.")
    changed_fields: list[str] = strawberry.field(
        default_factory=list,
        description="What an update changed (GraphQL names); empty for a create or no change.",
    )
    errors: list[RegistryError] = strawberry.field(
        default_factory=list, description="Why the write was refused; empty on success."
    )


@strawberry.type(description="The result of enrolling a person, or ending an enrolment.")
class EnrolmentPayload:
    enrolment: EnrolmentRef | None = strawberry.field(
        default=None, description="The enrolment after the write; null when it was refused."
    )
    created: bool = strawberry.field(
        default=False,
        description="True when a new enrolment was made; false when one was already running.",
    )
    errors: list[RegistryError] = strawberry.field(
        default_factory=list, description="Why the write was refused; empty on success."
    )


@strawberry.type(description="The result of a batch of household writes, one item per input.")
class HouseholdsPayload:
    items: list[HouseholdPayload] = strawberry.field(
        default_factory=list, description="`items[i]` answers `input[i]`, in order."
    )
    succeeded: int = strawberry.field(default=0, description="Items written (or unchanged).")
    failed: int = strawberry.field(default=0, description="Items refused (see their errors).")
    errors: list[RegistryError] = strawberry.field(
        default_factory=list,
        description="Why the whole batch was refused (empty, or more than 500 items).",
    )


@strawberry.type(description="The result of a batch of person writes, one item per input.")
class CitizensPayload:
    items: list[CitizenPayload] = strawberry.field(
        default_factory=list, description="`items[i]` answers `input[i]`, in order."
    )
    succeeded: int = strawberry.field(default=0, description="Items written (or unchanged).")
    failed: int = strawberry.field(default=0, description="Items refused (see their errors).")
    errors: list[RegistryError] = strawberry.field(
        default_factory=list,
        description="Why the whole batch was refused (empty, or more than 500 items).",
    )


@strawberry.type(description="The result of a batch of enrolment writes, one item per input.")
class EnrolmentsPayload:
    items: list[EnrolmentPayload] = strawberry.field(
        default_factory=list, description="`items[i]` answers `input[i]`, in order."
    )
    succeeded: int = strawberry.field(default=0, description="Items written (or unchanged).")
    failed: int = strawberry.field(default=0, description="Items refused (see their errors).")
    errors: list[RegistryError] = strawberry.field(
        default_factory=list,
        description="Why the whole batch was refused (empty, or more than 500 items).",
    )
