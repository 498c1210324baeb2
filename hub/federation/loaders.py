"""Connected fields for every citizen of a response: one call per connector per request.

`connected(info, citizen, "healthCoverage")` is what `Citizen.healthCoverage` resolves to.
The citizens of the response gather on the request's loader of the connector that provides
the field; its batch:

1. levels each citizen by the policy (`Citizen.healthCoverage`: full, full while pledged,
   or none; and, where the policy names them, only for some purposes). A connected field
   has no masked form: below full it is null, and the hub does not ask the agency about
   that person at all;
2. sends one `_entities` to the connector for the citizens left, keyed by the NIK as
   recorded (never the masked one) or by the hub's global id;
3. records, for the audit event, each citizen whose connected field came back with data,
   and from which connector (`connector:<name>` among the citizen's fields).

A connector that is slow, failing or behind an open circuit raises `ConnectorUnavailable`
on each of its fields: null there, with the error on its path; the rest of the response
stands.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from strawberry.dataloader import DataLoader
from strawberry.types import Info

from hub.authz.catalog import Level
from hub.federation import queries, service
from hub.federation.connectors import ConnectorFailure, Target, fetch_entities
from hub.federation.types import CONNECTED
from hub.graphql.context import Context
from hub.graphql.errors import HubError
from hub.graphql.relay import to_global_id

#: Per citizen id: the connected fields' answers (None where not shown or not known).
Answers = dict[str, dict[str, Any] | None]


class ConnectorUnavailable(HubError):
    """The connector gave no usable answer: its fields are null on this path."""

    code = "CONNECTOR_UNAVAILABLE"

    def __init__(self, connector: str, reason: str) -> None:
        super().__init__(
            f"The {connector} connector did not answer ({reason}); its fields are null.",
            connector=connector,
            reason=reason,
        )


async def connected(info: Info[Context, Any], citizen_id: int, field: str) -> Any:
    """The value of the connected `field` of one citizen, from its connector (or None)."""
    context = info.context
    target = (await _targets(context)).get(field)
    if target is None:
        return None  # no agency provides this field yet
    try:
        answers: Answers = await _loader(context, target).load(citizen_id)
    except ConnectorFailure as failure:
        raise ConnectorUnavailable(failure.connector, failure.reason) from None
    value = answers.get(field)
    if value is None:
        return None
    try:
        return CONNECTED[field][0].from_answer(value)  # type: ignore[attr-defined]
    except (KeyError, TypeError, ValueError):
        raise ConnectorUnavailable(target.name, f"its {field} is outside the contract") from None


def _memo_loader(context: Context, slot: tuple[str, str], load: Any) -> DataLoader[Any, Any]:
    # Not `Context.loader`: that holds the session's lock for the whole batch, and this batch
    # waits on an agency's server, during which the request's other queries must go on.
    loader = context.memo.get(slot)
    if loader is None:
        loader = context.memo[slot] = DataLoader(load_fn=load)
    return loader


async def _targets(context: Context) -> dict[str, Target]:
    """Field -> the active connector providing it, read once per request."""

    async def load(_: list[str]) -> list[dict[str, Target]]:
        async with context.db_lock:
            rows = await service.list_active(context.session)
        return [{field: Target.of(row) for row in rows for field in row.fields}]

    found: dict[str, Target] = await _memo_loader(context, ("federation.targets", ""), load).load(
        "all"
    )
    return found


def _loader(context: Context, target: Target) -> DataLoader[int, Answers]:
    async def load(citizen_ids: list[int]) -> Sequence[Answers]:
        return await _call(context, target, citizen_ids)

    return _memo_loader(context, ("federation.connector", target.name), load)


async def _call(context: Context, target: Target, citizen_ids: list[int]) -> list[Answers]:
    shown = await _shown_fields(context, target, citizen_ids)
    asked = [cid for cid in citizen_ids if shown[cid]]
    answers: dict[int, Answers] = {cid: {} for cid in citizen_ids}
    if not asked:
        return [answers[cid] for cid in citizen_ids]
    if target.key_field == "nik":
        recorded = {row.id: row.nik for row in await context.rows(queries.niks(asked))}
        representations = [{"__typename": "Citizen", "nik": recorded[cid]} for cid in asked]
    else:
        representations = [
            {"__typename": "Citizen", "id": to_global_id("Citizen", cid)} for cid in asked
        ]
    selection = " ".join(CONNECTED[field][1] for field in target.fields)
    entities = await fetch_entities(target, representations, selection)
    for cid, entity in zip(asked, entities, strict=True):
        returned = {f: entity.get(f) for f in shown[cid]} if entity else {}
        answers[cid] = returned
        given = {f for f, value in returned.items() if value is not None}
        if given:
            # Outside the field layer: the citizen's trail names the fields and the connector.
            context.subject_reads.setdefault(cid, set()).update(
                {*(f"Citizen.{f}" for f in given), f"connector:{target.name}"}
            )
    return [answers[cid] for cid in citizen_ids]


async def _shown_fields(
    context: Context, target: Target, citizen_ids: list[int]
) -> dict[int, set[str]]:
    """Per citizen, which of the connector's fields the caller sees (in full) here."""
    access = context.access
    selected = [
        f
        for f in target.fields
        if f"Citizen.{f}" in context.selected_fields
        and access.may_read_for("Citizen", f, context.purpose)
    ]
    levels = {f: access.level("Citizen", f) for f in selected}
    full = {f for f, level in levels.items() if level is Level.FULL}
    pledged_only = {f for f, level in levels.items() if level is Level.PLEDGED}
    pledged: set[int] = set()
    if pledged_only and context.purpose is not None:
        statement = queries.pledged_citizens(context.principal.organization_id, citizen_ids)
        pledged = {row.citizen_id for row in await context.rows(statement)}
    return {cid: full | (pledged_only if cid in pledged else set()) for cid in citizen_ids}
