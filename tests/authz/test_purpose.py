"""Purpose limitation: personal data in full needs a stated, allowed purpose."""

from __future__ import annotations

from tests.support.api import Api

PROFILE = "{ citizens(first: 3) { nodes { nik fullName household { address } } } }"


async def test_full_personal_data_without_purpose_is_refused(city: Api) -> None:
    body = await city.as_("opd_officer", purpose=None).query(PROFILE)
    error = body["errors"][0]
    assert error["extensions"]["code"] == "PURPOSE_REQUIRED"
    assert "X-Purpose" in error["message"]
    assert "Citizen.nik" in error["extensions"]["fields"]
    assert body["data"] is None


async def test_non_personal_reads_need_no_purpose(city: Api) -> None:
    data = await city.as_("opd_officer", purpose=None).data(
        "{ citizens(first: 3) { nodes { ageBand sex hasDisability } } }"
    )
    assert len(data["citizens"]["nodes"]) == 3


async def test_unknown_purpose_lists_the_accepted_ones(city: Api) -> None:
    body = await city.as_("opd_officer", purpose="CURIOSITY").query(PROFILE)
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_PURPOSE"
    assert "SERVICE_DELIVERY" in error["message"] and "CITIZEN_REQUEST" in error["message"]


async def test_a_purpose_the_role_may_not_state_is_forbidden(city: Api) -> None:
    body = await city.as_("lks_partner", purpose="AUDIT").query("{ me { clientId } }")
    assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN", "permission": "purpose:AUDIT"}


async def test_forbidden_names_the_permission_and_reveals_nothing(auditor: Api) -> None:
    body = await auditor.query('{ citizen(nik: "3273010101900001") { fullName } }')
    assert body == {
        "data": None,
        "errors": [
            {
                "message": "Your role (auditor) may not run Query.citizen.",
                "extensions": {"code": "FORBIDDEN", "permission": "Query.citizen"},
            }
        ],
    }
