"""Dinsos changes field access at run time; every worker applies it within seconds."""

from __future__ import annotations

import pytest

from hub.authz.matrix import cells
from hub.graphql.relay import to_global_id
from tests.support.api import Api, close_api, make_api

SET = """mutation($role: Role!, $field: String!, $level: FieldLevel!) {
  setFieldAccess(role: $role, field: $field, level: $level) { version errors { code message } }
}"""
LKS_VIEW = "{ needs(first: 5, filter: {status: [OPEN]}) { nodes { citizen { nik ageBand } } } }"


async def test_a_field_access_change_reaches_another_worker(fresh_city: Api) -> None:
    url = str(fresh_city.app.state.settings.database_url)
    # A second "worker": another app on the same database that checks the policy version
    # on every request (production workers check every HUB_POLICY_CHECK_SECONDS).
    other = await make_api(url)
    other.app.state.policies.check_every = 0
    lks_elsewhere = other.as_("lks_partner", purpose=None)
    before = (await lks_elsewhere.data(LKS_VIEW))["needs"]["nodes"]
    assert all(n["citizen"]["nik"] for n in before)  # masked, but present

    changed = await fresh_city.as_("dinsos_admin").data(
        SET, {"role": "LKS_PARTNER", "field": "Citizen.nik", "level": "NONE"}
    )
    assert changed["setFieldAccess"] == {"version": 1, "errors": []}

    after = (await lks_elsewhere.data(LKS_VIEW))["needs"]["nodes"]
    assert after and all(n["citizen"]["nik"] is None for n in after)
    assert all(n["citizen"]["ageBand"] for n in after)
    matrix = (
        await lks_elsewhere.data(
            "{ permissionMatrix { version cells { layer subject role decision } } }"
        )
    )["permissionMatrix"]
    assert matrix["version"] == 1
    assert {
        "layer": "field",
        "subject": "Citizen.nik",
        "role": "lks_partner",
        "decision": "none",
    } in matrix["cells"]
    await close_api(other)


async def test_an_unknown_field_is_refused_with_the_list(fresh_city: Api) -> None:
    body = await fresh_city.as_("dinsos_admin").data(
        SET, {"role": "LKS_PARTNER", "field": "Citizen.religion", "level": "FULL"}
    )
    error = body["setFieldAccess"]["errors"][0]
    assert error["code"] == "INVALID_INPUT"
    assert "Citizen.nik" in error["message"]
    assert body["setFieldAccess"]["version"] is None


ERRORS = " { errors { code } } }"
MUTATION_DOCUMENTS = {
    "Mutation.registerOrganization": 'mutation { registerOrganization(input: {code: "X", '
    'kind: LKS, name: ""})' + ERRORS,
    "Mutation.approveOrganization": 'mutation { approveOrganization(code: "NOPE")' + ERRORS,
    "Mutation.suspendOrganization": 'mutation { suspendOrganization(code: "NOPE")' + ERRORS,
    "Mutation.createClient": 'mutation { createClient(input: {organization: "NOPE", roles: []})'
    + ERRORS,
    "Mutation.rotateClientSecret": 'mutation { rotateClientSecret(clientId: "nope")' + ERRORS,
    "Mutation.revokeClient": 'mutation { revokeClient(clientId: "nope")' + ERRORS,
    "Mutation.grantRole": 'mutation { grantRole(clientId: "nope", role: AUDITOR)' + ERRORS,
    "Mutation.revokeRole": 'mutation { revokeRole(clientId: "nope", role: AUDITOR)' + ERRORS,
    "Mutation.setFieldAccess": 'mutation { setFieldAccess(role: AUDITOR, field: "nope", '
    "level: NONE)" + ERRORS,
    # The need workflow: ids of records that do not exist, so nothing changes.
    "Mutation.reportNeed": "mutation { reportNeed(input: {citizen: "
    f'"{to_global_id("Citizen", 0)}", category: "FOOD", description: "-", severity: LOW}})'
    + ERRORS,
    "Mutation.verifyNeed": f'mutation {{ verifyNeed(id: "{to_global_id("Need", 0)}")' + ERRORS,
    "Mutation.referNeed": f'mutation {{ referNeed(id: "{to_global_id("Need", 0)}", to: "DINKES")'
    + ERRORS,
    "Mutation.pledgeNeed": f'mutation {{ pledgeNeed(id: "{to_global_id("Need", 0)}")' + ERRORS,
    "Mutation.releasePledge": f'mutation {{ releasePledge(id: "{to_global_id("Need", 0)}", '
    'reason: "-")' + ERRORS,
    "Mutation.closeNeed": f'mutation {{ closeNeed(id: "{to_global_id("Need", 0)}", '
    'outcome: NO_LONGER_NEEDED, reason: "-")' + ERRORS,
    "Mutation.recordContribution": "mutation { recordContribution(input: {citizen: "
    f'"{to_global_id("Citizen", 0)}", category: "FOOD", kind: CASH, amount: 1, '
    'deliveredOn: "2026-01-01", idempotencyKey: "matrix-walk"})' + ERRORS,
}


def _mutation_cells() -> list[tuple[str, str, str]]:
    from tests.authz.test_matrix import POLICY

    return [
        (c.subject, c.role, c.decision)
        for c in cells(POLICY)
        if c.layer == "operation" and c.subject.startswith("Mutation.")
    ]


def test_every_mutation_has_a_document_to_walk() -> None:
    assert sorted(MUTATION_DOCUMENTS) == sorted({s for s, _, _ in _mutation_cells()})


@pytest.mark.parametrize(("operation", "role", "decision"), _mutation_cells())
async def test_mutation_cell(city: Api, operation: str, role: str, decision: str) -> None:
    # Every document is refused by the domain (unknown codes), so the shared city stays as it is.
    body = await city.as_(role, purpose=None).query(MUTATION_DOCUMENTS[operation])
    codes = [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
    if decision == "denied":
        assert codes == ["FORBIDDEN"] and body["errors"][0]["extensions"]["permission"] == operation
    else:
        assert codes == [], body
        payload = next(iter(body["data"].values()))
        assert payload["errors"], payload
