"""GraphQL types of federation: the connected fields' contract, and connectors."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

import strawberry
from strawberry.federation.schema_directives import Shareable

from hub.federation.errors import ConnectorErrorCode
from hub.federation.models import Connector as ConnectorRow
from hub.graphql.enums import described_enum

# The connected types are value types an agency's subgraph may serve too (the example in
# partners/examples/opd-subgraph does): @shareable lets a gateway compose both.


@strawberry.enum(description="BPJS Kesehatan membership status.")
class BpjsStatus(Enum):
    ACTIVE = strawberry.enum_value("ACTIVE", description="Covered.")
    INACTIVE = strawberry.enum_value("INACTIVE", description="Registered, contributions lapsed.")
    NOT_REGISTERED = strawberry.enum_value("NOT_REGISTERED", description="Not a member.")


@strawberry.enum(description="Whether a pupil holds a Kartu Indonesia Pintar.")
class KipStatus(Enum):
    RECEIVING = strawberry.enum_value("RECEIVING", description="Holds KIP and receives it.")
    ELIGIBLE = strawberry.enum_value("ELIGIBLE", description="Eligible, not yet receiving.")
    NONE = strawberry.enum_value("NONE", description="Not eligible or not a pupil.")


@strawberry.type(
    description="BPJS Kesehatan coverage, from the health agency's (Dinkes) connector.",
    directives=[Shareable()],
)
class HealthCoverage:
    bpjs_status: BpjsStatus = strawberry.field(description="Membership status.")
    bpjs_class: int | None = strawberry.field(description="Care class 1-3; null if none.")
    subsidised: bool = strawberry.field(description="PBI: contributions paid by government.")
    checked_at: str = strawberry.field(description="When the agency last checked (ISO date).")

    @classmethod
    def from_answer(cls, value: dict[str, Any]) -> HealthCoverage:
        """Map the connector's answer (the contract's field names)."""
        return cls(
            bpjs_status=BpjsStatus(value["bpjsStatus"]),
            bpjs_class=value.get("bpjsClass"),
            subsidised=bool(value.get("subsidised")),
            checked_at=str(value["checkedAt"]),
        )


@strawberry.type(
    description="School enrolment and KIP status, from the education agency's (Disdik) connector.",
    directives=[Shareable()],
)
class Schooling:
    school_name: str | None = strawberry.field(description="School attended; null if none.")
    level: str | None = strawberry.field(description="SD, SMP, SMA or SMK; null if none.")
    kip_status: KipStatus = strawberry.field(description="Kartu Indonesia Pintar status.")

    @classmethod
    def from_answer(cls, value: dict[str, Any]) -> Schooling:
        """Map the connector's answer (the contract's field names)."""
        return cls(
            school_name=value.get("schoolName"),
            level=value.get("level"),
            kip_status=KipStatus(value["kipStatus"]),
        )


#: Each connected field: its type, and the selection the hub sends the connector.
CONNECTED: dict[str, tuple[type, str]] = {
    "healthCoverage": (
        HealthCoverage,
        "healthCoverage { bpjsStatus bpjsClass subsidised checkedAt }",
    ),
    "schooling": (Schooling, "schooling { schoolName level kipStatus }"),
}


@strawberry.enum(description="How the hub authenticates to a connector.")
class ConnectorAuth(Enum):
    NONE = strawberry.enum_value("NONE", description="No credentials (loopback tests only).")
    BEARER = strawberry.enum_value("BEARER", description="A static bearer token.")
    CLIENT_CREDENTIALS = strawberry.enum_value(
        "CLIENT_CREDENTIALS",
        description="OAuth2 client credentials at the agency's token endpoint.",
    )


@strawberry.enum(description="Which key the connector resolves citizens by.")
class ConnectorKey(Enum):
    NIK = strawberry.enum_value("nik", description='`Citizen @key(fields: "nik")`.')
    ID = strawberry.enum_value("id", description="The hub's global id.")


@strawberry.type(description="An agency's subgraph the hub calls for the fields it provides.")
class Connector:
    name: str = strawberry.field(description="Handle named in errors and audit events.")
    url: str = strawberry.field(description="The subgraph's GraphQL endpoint.")
    fields: list[str] = strawberry.field(description="The hub's `Citizen` fields it provides.")
    key: ConnectorKey = strawberry.field(description="Which key it resolves citizens by.")
    timeout_ms: int = strawberry.field(description="How long the hub waits for one call.")
    auth: ConnectorAuth = strawberry.field(
        description="How the hub authenticates; the secret itself is never shown."
    )
    active: bool = strawberry.field(description="Whether the hub calls it.")
    created_at: dt.datetime = strawberry.field(description="When it was registered.")

    @classmethod
    def from_row(cls, row: ConnectorRow) -> Connector:
        """Map a `connectors` row (without its secret reference)."""
        return cls(
            name=row.name,
            url=row.url,
            fields=list(row.fields),
            key=ConnectorKey(row.key_field),
            timeout_ms=row.timeout_ms,
            auth=ConnectorAuth(row.auth),
            active=row.status == "ACTIVE",
            created_at=row.created_at,
        )


described_enum(
    ConnectorErrorCode,
    description="Why a connector registration was refused.",
    values={
        "BAD_NAME": "The name is not a handle.",
        "BAD_URL": "Not an http(s) URL with a host.",
        "UNKNOWN_FIELD": "Not one of the hub's connected fields.",
        "FIELD_TAKEN": "Another active connector provides that field.",
        "BAD_TIMEOUT": "Timeout out of 50-30000 ms.",
        "BAD_CREDENTIALS": "Credentials incomplete, or a secret instead of a reference.",
        "UNKNOWN_ORGANIZATION": "No organisation has that code.",
    },
)


@strawberry.type(description="An expected failure of a connector registration.")
class ConnectorError:
    code: ConnectorErrorCode = strawberry.field(description="What kind of failure.")
    message: str = strawberry.field(description="What was wrong and what is accepted.")


@strawberry.type(description="The result of `registerConnector`.")
class ConnectorPayload:
    connector: Connector | None = strawberry.field(
        default=None, description="The connector as registered; null on failure."
    )
    errors: list[ConnectorError] = strawberry.field(
        default_factory=list, description="Why the registration was refused; empty on success."
    )


@strawberry.input(description="An agency's subgraph to call for the connected fields it provides.")
class RegisterConnectorInput:
    name: str = strawberry.field(
        description="Handle, e.g. `dinkes`; registering it again updates it."
    )
    url: str = strawberry.field(description="The subgraph's GraphQL endpoint (http or https).")
    fields: list[str] = strawberry.field(
        description="The hub's `Citizen` fields it provides: `healthCoverage`, `schooling`."
    )
    key: ConnectorKey = strawberry.field(
        default=ConnectorKey.NIK, description="Which key its `Citizen` is resolved by."
    )
    timeout_ms: int = strawberry.field(
        default=2000, description="How long the hub waits for one call, 50-30000 ms."
    )
    auth: ConnectorAuth = strawberry.field(
        default=ConnectorAuth.NONE, description="How the hub authenticates to it."
    )
    secret_ref: str | None = strawberry.field(
        default=None,
        description="Where the hub reads the credential (bearer token or client secret): "
        "`env:NAME` or `file:/path`. Never the secret itself.",
    )
    token_url: str | None = strawberry.field(
        default=None, description="CLIENT_CREDENTIALS: the agency's token endpoint."
    )
    client_id: str | None = strawberry.field(
        default=None, description="CLIENT_CREDENTIALS: the hub's client id there."
    )
    organization: str | None = strawberry.field(
        default=None, description="Code of the agency that runs it (`DINKES`)."
    )
