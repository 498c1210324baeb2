"""GraphQL types of the registry domain (households and citizens), mapped in one place."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from sqlalchemy.engine import Row

from hub.federation import fields as connected
from hub.graphql.enums import described_enum
from hub.graphql.relay import Node, to_global_id
from hub.graphql.rows import columns
from hub.graphql.scalars import Rupiah
from hub.regions.types import Region
from hub.registry import errors
from hub.registry.errors import RegistryErrorCode

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


#: Members by stored value: `from_row` maps every person of a page, and an enum's call
#: (`Sex("F")`) costs several times a dictionary's lookup.
_SEXES = {member.value: member for member in Sex}
_RELATIONSHIPS = {member.value: member for member in Relationship}


@strawberry.enum(description="How a record last changed.")
class ChangeChannel(Enum):
    SEED = strawberry.enum_value("SEED", description="Made by the synthetic seed (demo data).")
    IMPORT = strawberry.enum_value(
        "IMPORT", description="A DTKS (SIKS-NG) file imported with `hub import dtks`."
    )
    API = strawberry.enum_value("API", description="An agency's client through this API.")


@strawberry.type(description="Who last changed a record, how, when and what.")
class Provenance:
    version: int = strawberry.field(
        description="The record's version: 1 when created, one more with every change. Send "
        "it as `expectedVersion` with an update."
    )
    changed_via: ChangeChannel = strawberry.field(description="Import, API or seed.")
    changed_at: dt.datetime = strawberry.field(description="When the last change was made.")
    changed_fields: list[str] = strawberry.field(
        description="GraphQL names of the fields the last change set (`fullName`, "
        "`household`, …); empty when it created the record."
    )
    organization_code: str | None = strawberry.field(
        description="The organisation whose client made the change (API); null otherwise."
    )
    client_id: str | None = strawberry.field(
        description="The OAuth2 client id that made it (API), or `cli:<account>` that ran the "
        "import (IMPORT)."
    )
    import_file: str | None = strawberry.field(
        description="Name of the DTKS file whose import made the change (IMPORT)."
    )
    import_sha256: str | None = strawberry.field(
        description="SHA-256 of that file, as `hub import dtks` recorded it."
    )
    dtks_listed: bool = strawberry.field(
        description="Whether the latest DTKS file imported lists the record."
    )
    delisted_on: dt.date | None = strawberry.field(
        description="When a DTKS import found the record no longer listed; null while listed."
    )
    key: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Row[Any]) -> Provenance:
        """Map a row of a record's provenance columns with its organisation and import."""
        return cls(
            version=row.version,
            changed_via=ChangeChannel(row.changed_via),
            changed_at=row.updated_at,
            changed_fields=(row.changed_fields or "").split(),
            organization_code=row.organization_code,
            client_id=row.client,
            import_file=row.import_file,
            import_sha256=row.import_sha256,
            dtks_listed=row.dtks_listed,
            delisted_on=row.delisted_on,
            key=row.id,
        )


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
    version: int = strawberry.field(
        default=1,
        description="The record's version; send it as `expectedVersion` to `upsertHousehold`.",
    )
    provenance: Provenance | None = strawberry.field(
        default=None, description="Who last changed the household, how, when and what."
    )
    pk: strawberry.Private[int]
    kelurahan_code: strawberry.Private[str]
    kecamatan_code: strawberry.Private[str]
    #: Set once the field layer has masked this object for the request.
    access_applied: strawberry.Private[bool] = False

    @classmethod
    def from_row(cls, row: Row[Any]) -> Household:
        """Map a `households` row."""
        c = columns(row)
        return cls(
            id=strawberry.ID(to_global_id("Household", c["id"])),
            kk_number=c["kk_number"],
            dtks_id=c["dtks_id"],
            address=c["address"],
            rt=c["rt"],
            rw=c["rw"],
            welfare_decile=c["welfare_decile"],
            source=c["source"],
            created_at=c["created_at"],
            updated_at=c["updated_at"],
            version=c["version"],
            pk=c["id"],
            kelurahan_code=c["kelurahan_code"],
            kecamatan_code=c["kecamatan_code"],
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
    version: int = strawberry.field(
        default=1,
        description="The record's version; send it as `expectedVersion` to `upsertCitizen`.",
    )
    provenance: Provenance | None = strawberry.field(
        default=None,
        description="Who last changed the person's record (an import, or which agency's "
        "client), when, and which fields.",
    )
    household_history: list[HouseholdMembership] | None = strawberry.field(
        default=None,
        description="The households (KK) the person belonged to before the current one, "
        "most recent first: a move keeps the household left, with the dates.",
    )
    # Agencies' data through their connectors (hub.federation), batched per request.
    health_coverage = connected.health_coverage
    schooling = connected.schooling
    pk: strawberry.Private[int]
    household_id: strawberry.Private[int]
    #: Set once the field layer has masked this object for the request.
    access_applied: strawberry.Private[bool] = False
    #: Whether the caller's organisation holds a live pledge on one of the person's needs,
    #: when the statement that loaded the row said (`hub.authz.masking`); None: not asked.
    pledged_by_caller: strawberry.Private[bool | None] = None

    @classmethod
    def from_row(cls, row: Row[Any], today: dt.date | None = None) -> Citizen:
        """Map a `citizens` row; `age` is counted up to `today` (default: the clock)."""
        c = columns(row)
        return cls(
            id=strawberry.ID(to_global_id("Citizen", c["id"])),
            nik=c["nik"],
            full_name=c["full_name"],
            birth_date=c["birth_date"],
            age=(age := age_on(c["birth_date"], today or dt.date.today())),
            age_band=age_band(age),
            sex=_SEXES[c["sex"]],
            relationship=_RELATIONSHIPS[c["relationship"]],
            has_disability=c["has_disability"],
            has_chronic_illness=c["has_chronic_illness"],
            education=c["education"],
            occupation=c["occupation"],
            phone=c["phone"],
            version=c["version"],
            pk=c["id"],
            household_id=c["household_id"],
            # The column `hub.authz.masking.pledged_by_caller_column` adds, when it did.
            pledged_by_caller=c.get("pledged_by_caller"),
        )


@strawberry.type(description="A household a person belonged to, and when.")
class HouseholdMembership:
    household: Household | None = strawberry.field(default=None, description="The household.")
    relationship: Relationship = strawberry.field(
        description="The person's relationship to its head then."
    )
    valid_from: dt.date = strawberry.field(description="Since when (as far as the hub knows).")
    valid_to: dt.date = strawberry.field(description="The day the person moved on.")
    household_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Row[Any]) -> HouseholdMembership:
        """Map a `citizen_household_history` row."""
        return cls(
            relationship=Relationship(row.relationship),
            valid_from=row.valid_from,
            valid_to=row.valid_to,
            household_id=row.household_id,
        )


# --- Writes pushed by agencies: inputs, payloads and the error they carry ---------------


#: Most items one batch mutation takes.
MAX_BATCH = 500


described_enum(
    RegistryErrorCode,
    description="Why a registry write was refused.",
    values={
        "INVALID_INPUT": (
            "A value is out of range or malformed, a new record lacks a required field, or a "
            "batch is empty or longer than 500; the message says which and what is accepted."
        ),
        "INVALID_NIK": (
            "The NIK is not 16 digits of the right structure, or its digits 7-12 do not "
            "encode the birth date (DD+40 for women)."
        ),
        "INVALID_KK": "The KK number is not 16 digits with an issue date DDMMYY.",
        "REGION_NOT_FOUND": "The kelurahan code is not one of Kota Bandung's.",
        "HOUSEHOLD_NOT_FOUND": ("No household has the DTKS id or KK number given; push it first."),
        "CITIZEN_NOT_FOUND": "The hub has no one with this NIK.",
        "PROGRAM_NOT_FOUND": "No programme has this code; `programs` lists them.",
        "CONFLICT": "The DTKS id or KK number belongs to another household.",
        "STALE_WRITE": (
            "The record changed since the version you read, or you sent no `expectedVersion` "
            "for a record that exists. Read it again (its `version`) and retry."
        ),
        "NOT_ENROLLED": "The person has no running enrolment in the programme.",
    },
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
        return cls(code=error.code, message=error.message)


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
