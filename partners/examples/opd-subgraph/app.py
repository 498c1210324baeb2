"""An agency's own GraphQL service, as an Apollo Federation 2 subgraph (the template to copy).

It stands for Dinkes (health) and Disdik (education) at once: for a citizen, known by NIK, it
gives BPJS health coverage and schooling, the fields the Satu Pintu Hub declares as
`Citizen.healthCoverage` and `Citizen.schooling`; and it owns its own data (clinics and
their visits) that refers to the hub's citizens, for a gateway to join.

Run: `uvicorn app:app --app-dir partners/examples/opd-subgraph --port 4001`.

Environment:
  OPD_DATA   CSV of the agency's records (nik, bpjs_status, bpjs_class, ...); default
             `sample.csv` beside this file.
  OPD_TOKEN  when set, every request must carry `Authorization: Bearer <OPD_TOKEN>`.
  OPD_CLIENT_SECRET  when set, POST /token gives OPD_TOKEN to the client `hub` with this
             secret (OAuth2 client credentials), for a hub registered that way.

Test switches (query parameters of the URL, never for production): `?sleep=SECONDS` answers
after a delay, `?fail=STATUS` answers with that HTTP status, `?garble=1` answers outside the
contract.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import datetime as dt
import json
import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import strawberry
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from strawberry.asgi import GraphQL

HERE = Path(__file__).parent


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


@strawberry.federation.type(shareable=True, description="BPJS Kesehatan coverage (Dinkes).")
class HealthCoverage:
    bpjs_status: BpjsStatus = strawberry.field(description="Membership status.")
    bpjs_class: int | None = strawberry.field(description="Care class 1-3; null if none.")
    subsidised: bool = strawberry.field(description="PBI: contributions paid by government.")
    checked_at: str = strawberry.field(description="When the agency last checked (ISO date).")


@strawberry.federation.type(shareable=True, description="School enrolment and KIP (Disdik).")
class Schooling:
    school_name: str | None = strawberry.field(description="School attended; null if none.")
    level: str | None = strawberry.field(description="SD, SMP, SMA or SMK; null if none.")
    kip_status: KipStatus = strawberry.field(description="Kartu Indonesia Pintar status.")


@dataclass(frozen=True)
class Record:
    """One row of the agency's own table."""

    nik: str
    health: HealthCoverage | None
    schooling: Schooling | None
    clinic: str | None


def load_records(path: Path) -> dict[str, Record]:
    """The agency's table, by NIK, from a CSV file."""
    records: dict[str, Record] = {}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            health = None
            if row.get("bpjs_status"):
                health = HealthCoverage(
                    bpjs_status=BpjsStatus(row["bpjs_status"]),
                    bpjs_class=int(row["bpjs_class"]) if row.get("bpjs_class") else None,
                    subsidised=row.get("subsidised") == "1",
                    checked_at=row.get("checked_at") or dt.date.today().isoformat(),
                )
            schooling = None
            if row.get("kip_status"):
                schooling = Schooling(
                    school_name=row.get("school_name") or None,
                    level=row.get("level") or None,
                    kip_status=KipStatus(row["kip_status"]),
                )
            records[row["nik"]] = Record(row["nik"], health, schooling, row.get("clinic") or None)
    return records


RECORDS = load_records(Path(os.environ.get("OPD_DATA") or HERE / "sample.csv"))
CLINICS = {"PKM-SUKAJADI": "Puskesmas Sukajadi", "PKM-CIBIRU": "Puskesmas Cibiru"}


@strawberry.federation.type(keys=["nik"], description="A resident, as the agency knows them.")
class Citizen:
    nik: str = strawberry.field(description="NIK, the key the agency shares with the hub.")

    @strawberry.federation.field(shareable=True, description="BPJS coverage, if known.")
    def health_coverage(self) -> HealthCoverage | None:
        record = RECORDS.get(self.nik)
        return record.health if record else None

    @strawberry.federation.field(shareable=True, description="Schooling, if known.")
    def schooling(self) -> Schooling | None:
        record = RECORDS.get(self.nik)
        return record.schooling if record else None

    @strawberry.field(description="Visits to the agency's clinics.")
    def clinic_visits(self) -> list[ClinicVisit]:
        record = RECORDS.get(self.nik)
        if record is None or record.clinic is None:
            return []
        return [ClinicVisit(clinic_code=record.clinic, nik=self.nik)]

    @classmethod
    def resolve_reference(cls, nik: str) -> Citizen:
        """Any NIK resolves; the fields are null or empty for people not in the table."""
        return cls(nik=nik)


@strawberry.type(description="One visit to a clinic.")
class ClinicVisit:
    clinic_code: strawberry.Private[str]
    nik: strawberry.Private[str]

    @strawberry.field(description="The clinic visited.")
    def clinic(self) -> Clinic:
        return Clinic(code=self.clinic_code)

    @strawberry.field(description="Who visited: a citizen the hub resolves.")
    def citizen(self) -> Citizen:
        return Citizen(nik=self.nik)


@strawberry.federation.type(keys=["code"], description="A Puskesmas run by the agency.")
class Clinic:
    code: str = strawberry.field(description="The agency's clinic code.")

    @strawberry.field(description="The clinic's name.")
    def name(self) -> str:
        return CLINICS.get(self.code, self.code)

    @strawberry.field(description="Visits recorded at this clinic.")
    def visits(self) -> list[ClinicVisit]:
        return [
            ClinicVisit(clinic_code=self.code, nik=r.nik)
            for r in RECORDS.values()
            if r.clinic == self.code
        ]

    @classmethod
    def resolve_reference(cls, code: str) -> Clinic:
        return cls(code=code)


@strawberry.type(description="The agency's own entry points.")
class Query:
    @strawberry.field(description="The agency's clinics.")
    def clinics(self) -> list[Clinic]:
        return [Clinic(code=code) for code in CLINICS]


# Federation 2.9: the newest version the hub's gateway composition understands.
schema = strawberry.federation.Schema(query=Query, types=[Citizen], federation_version="2.9")


class Gate:
    """The agency's door: its token, and the test switches, before GraphQL."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.requests = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/stats":
            # How many GraphQL requests it answered (lets tests check the hub batches).
            await JSONResponse({"requests": self.requests})(scope, receive, send)
            return
        if scope["type"] == "http" and scope["path"] == "/token":
            await (await self.token(Request(scope, receive)))(scope, receive, send)
            return
        if scope["type"] == "http":
            self.requests += 1
            request = Request(scope, receive)
            token = os.environ.get("OPD_TOKEN")
            refusal: Response | None = None
            if token and request.headers.get("authorization") != f"Bearer {token}":
                refusal = JSONResponse({"errors": [{"message": "bad token"}]}, status_code=401)
            elif "sleep" in request.query_params:
                await asyncio.sleep(float(request.query_params["sleep"]))
            if refusal is None and "garble" in request.query_params:
                # Answers outside the contract: an unknown BPJS status for everyone asked.
                asked = json.loads(await request.body())["variables"]["r"]
                garbled = {"healthCoverage": {"bpjsStatus": "GARBLED", "checkedAt": "-"}}
                refusal = JSONResponse({"data": {"_entities": [garbled for _ in asked]}})
            if refusal is None and "fail" in request.query_params:
                status = int(request.query_params["fail"])
                refusal = JSONResponse({"errors": [{"message": "failing"}]}, status_code=status)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.inner(scope, receive, send)

    async def token(self, request: Request) -> Response:
        """OAuth2 client credentials (RFC 6749 §4.4): the hub trades its secret for a token."""
        expected = os.environ.get("OPD_CLIENT_SECRET")
        given = request.headers.get("authorization", "")
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        basic = "Basic " + base64.b64encode(f"hub:{expected}".encode()).decode()
        if not expected or given != basic or form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        token = os.environ.get("OPD_TOKEN", "")
        return JSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": 300})


app = Gate(GraphQL(schema, graphql_ide=None))
