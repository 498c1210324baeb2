"""Subscriptions over graphql-transport-ws against a live hub on loopback."""

from __future__ import annotations

import asyncio

import pytest
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport

from hub.graphql.relay import to_global_id
from tests.events.conftest import (
    OPENED,
    VERIFY,
    Closed,
    TransportWs,
    add_foundation,
    choose_area,
    hub_settings,
    init_payload,
    live_hub,
    sql,
)


async def test_a_foundation_hears_of_needs_opened_in_its_area_only(
    fresh_city_database_url: str,
) -> None:
    url = fresh_city_database_url
    area = await choose_area(url)
    foundation = await add_foundation(
        url, "RT-AREA", kecamatan=area.kecamatan, category=area.category
    )
    async with live_hub(hub_settings(url)) as hub:
        hub.identities[foundation.who] = foundation
        # The documented client: gql's websockets transport, token in connection_init.
        transport = WebsocketsTransport(
            url=hub.ws_url,
            init_payload=init_payload(hub, foundation.who),
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        )
        received: list[dict[str, object]] = []
        async with Client(transport=transport) as session:
            subscription = session.subscribe(gql(OPENED))
            first = asyncio.ensure_future(anext(subscription))
            await hub.subscribed()
            outside = await hub.post(
                "dinsos_admin", VERIFY, {"id": to_global_id("Need", area.outside)}
            )
            assert outside["data"]["verifyNeed"]["need"]["status"] == "OPEN"
            inside = await hub.post(
                "dinsos_admin", VERIFY, {"id": to_global_id("Need", area.inside)}
            )
            assert inside["data"]["verifyNeed"]["need"]["status"] == "OPEN"
            received.append(await asyncio.wait_for(first, 10))
            with_more = asyncio.ensure_future(anext(subscription))
            done, _ = await asyncio.wait({with_more}, timeout=1.0)
            assert not done, "the need outside the foundation's area was delivered"
            with_more.cancel()
    need = received[0]["needOpened"]
    assert need["id"] == to_global_id("Need", area.inside)  # type: ignore[index]
    assert need["kecamatan"] == {"code": area.kecamatan}  # type: ignore[index]
    citizen = need["citizen"]  # type: ignore[index]
    # Masked as in the feed: no pledge, so initials and a masked NIK.
    assert citizen["fullName"].endswith(".")
    assert "*" in citizen["nik"]
    audited = await sql(
        url,
        "SELECT decision, operation_type, organization_code FROM audit_events "
        "WHERE operation_type = 'subscription' AND organization_code = 'RT-AREA'",
    )
    assert audited and audited[0]["decision"] == "ALLOWED"


async def test_dinsos_sees_full_names_and_each_event_is_audited(
    fresh_city_database_url: str,
) -> None:
    url = fresh_city_database_url
    area = await choose_area(url)
    async with (
        live_hub(hub_settings(url)) as hub,
        TransportWs.open(hub.ws_url, init_payload(hub, "dinsos_admin")) as ws,
    ):
        await ws.subscribe("1", OPENED)
        await hub.subscribed()
        await hub.post("dinsos_admin", VERIFY, {"id": to_global_id("Need", area.inside)})
        payload = await ws.next_payload()
    citizen = payload["data"]["needOpened"]["citizen"]
    assert "*" not in citizen["nik"] and not citizen["fullName"].endswith(".")
    rows = await sql(
        url,
        "SELECT e.operation_name, c.citizen_id FROM audit_events e "
        "JOIN audit_event_citizens c ON c.event_seq = e.seq "
        "WHERE e.operation_type = 'subscription'",
    )
    assert any(r["operation_name"].startswith("needOpened event") for r in rows), rows


async def test_a_bad_token_closes_the_connection_with_4403(city_database_url: str) -> None:
    async with live_hub(hub_settings(city_database_url)) as hub:
        for payload in ({}, {"Authorization": "Bearer nonsense"}):
            try:
                async with TransportWs.open(hub.ws_url, payload):
                    raise AssertionError("the connection was accepted")
            except Closed as closed:
                assert closed.code == 4403


async def test_a_dashboard_on_another_origin_may_connect(city_database_url: str) -> None:
    async with (
        live_hub(hub_settings(city_database_url)) as hub,
        TransportWs.open(
            hub.ws_url, init_payload(hub, "lks_partner"), origin="https://dashboard.example.org"
        ) as ws,
    ):
        await ws.nothing_for(0.1)


async def test_refusals_come_as_coded_errors(city_database_url: str) -> None:
    async with (
        live_hub(hub_settings(city_database_url)) as hub,
        TransportWs.open(hub.ws_url, init_payload(hub, "auditor", "AUDIT")) as ws,
    ):
        await ws.subscribe("1", "subscription { needOpened { id } }")
        payload = await ws.next_payload()
        assert payload["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert payload["errors"][0]["extensions"]["permission"] == "Subscription.needOpened"
        async with TransportWs.open(hub.ws_url, init_payload(hub, "dinsos_admin", None)) as ws:
            await ws.subscribe("2", OPENED)
            payload = await ws.next_payload()
            assert payload["errors"][0]["extensions"]["code"] == "PURPOSE_REQUIRED"
            await ws.subscribe("3", "{ me { clientId } }")
            payload = await ws.next_payload()
            assert payload["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
            need = to_global_id("Need", 10**9)
            await ws.subscribe("4", f'subscription {{ needChanged(id: "{need}") {{ id }} }}')
            payload = await ws.next_payload()
            assert payload["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    denied = await sql(
        city_database_url,
        "SELECT reason FROM audit_events WHERE operation_type = 'subscription' "
        "AND decision = 'DENIED'",
    )
    assert any("Subscription.needOpened" in r["reason"] for r in denied), denied


async def test_need_changed_follows_one_need(fresh_city_database_url: str) -> None:
    url = fresh_city_database_url
    area = await choose_area(url)
    need = to_global_id("Need", area.inside)
    async with (
        live_hub(hub_settings(url)) as hub,
        TransportWs.open(hub.ws_url, init_payload(hub, "opd_officer")) as ws,
    ):
        await ws.subscribe(
            "1",
            f'subscription {{ needChanged(id: "{need}") {{ id status history {{ toStatus }} }} }}',
        )
        await hub.subscribed()
        await hub.post("dinsos_admin", VERIFY, {"id": to_global_id("Need", area.outside)})
        await hub.post("dinsos_admin", VERIFY, {"id": need})
        payload = await ws.next_payload()
    changed = payload["data"]["needChanged"]
    assert changed["id"] == need and changed["status"] == "OPEN"
    assert [h["toStatus"] for h in changed["history"]][-2:] == ["VERIFIED", "OPEN"]


async def test_a_revoked_client_is_disconnected(fresh_city_database_url: str) -> None:
    url = fresh_city_database_url
    async with (
        live_hub(hub_settings(url)) as hub,
        TransportWs.open(hub.ws_url, init_payload(hub, "lks_partner")) as ws,
    ):
        await ws.subscribe("1", "subscription { needOpened { id } }")
        await sql(
            url,
            "UPDATE clients SET revoked_at = CURRENT_TIMESTAMP WHERE client_id = :id",
            id=hub.identities["lks_partner"].client_id,
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 15
        with pytest.raises(Closed) as closed:
            while loop.time() < deadline:  # events may still arrive until then
                await ws.receive(deadline - loop.time())
        assert closed.value.code == 4403


async def test_a_foundation_is_warned_before_its_pledge_lapses(
    fresh_city_database_url: str,
) -> None:
    url = fresh_city_database_url
    area = await choose_area(url)
    foundation = await add_foundation(
        url, "RT-PLEDGE", kecamatan=area.kecamatan, category=area.category
    )
    need = to_global_id("Need", area.inside)
    settings = hub_settings(url, pledge_warning_check_seconds=1)
    async with live_hub(settings) as hub:
        hub.identities[foundation.who] = foundation
        await hub.post("dinsos_admin", VERIFY, {"id": need})
        async with TransportWs.open(hub.ws_url, init_payload(hub, foundation.who)) as ws:
            await ws.subscribe(
                "1",
                "subscription { pledgeExpiring { expiresAt need { id status "
                "citizen { fullName } } } }",
            )
            await hub.subscribed()
            pledged = await hub.post(
                foundation.who,
                f'mutation {{ pledgeNeed(id: "{need}", days: 1) {{ errors {{ code }} }} }}',
            )
            assert pledged["data"]["pledgeNeed"]["errors"] == []
            payload = await ws.next_payload(15)
    expiring = payload["data"]["pledgeExpiring"]
    assert expiring["need"]["id"] == need and expiring["need"]["status"] == "PLEDGED"
    # The foundation holds the pledge and states a purpose: the name in full, audited.
    assert not expiring["need"]["citizen"]["fullName"].endswith(".")


async def test_the_trusted_documents_allow_list_holds_for_subscriptions(
    city_database_url: str,
) -> None:
    settings = hub_settings(city_database_url)
    edge = settings.edge.model_copy(update={"trusted_documents_only": frozenset({"lks_partner"})})
    async with (
        live_hub(settings.model_copy(update={"edge": edge})) as hub,
        TransportWs.open(hub.ws_url, init_payload(hub, "lks_partner")) as ws,
    ):
        # No subscription is in schema/operations/: a foundation held to it may open none.
        # (Refused before execution, as a document that does not validate is, it answers
        # graphql-transport-ws's `error`.)
        await ws.subscribe("1", "subscription { needOpened { id } }")
        refused = await ws.receive(10)
        assert refused["type"] == "error", refused
        assert refused["payload"][0]["extensions"]["code"] == "DOCUMENT_NOT_TRUSTED"


async def test_a_subscription_refused_before_it_runs_is_audited(
    fresh_city_database_url: str,
) -> None:
    url = fresh_city_database_url
    async with (
        live_hub(hub_settings(url)) as hub,
        TransportWs.open(hub.ws_url, init_payload(hub, "lks_partner")) as ws,
    ):
        await ws.subscribe("1", "subscription { noSuchField { id } }")
        errors = await ws.next_errors()
        assert "noSuchField" in errors[0]["message"]
        assert errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        await ws.subscribe("2", "subscription {")
        # graphql-transport-ws closes the socket on a document that does not parse.
        with pytest.raises(Closed) as closed:
            await ws.next_errors()
        assert closed.value.code == 4400
    audited = await sql(
        url,
        "SELECT decision, reason FROM audit_events "
        "WHERE operation_type = 'subscription' ORDER BY seq",
    )
    reasons = [(row["decision"], row["reason"]) for row in audited]
    assert ("ALLOWED", "errors: GRAPHQL_VALIDATION_FAILED") in reasons, reasons
    assert ("ALLOWED", "errors: GRAPHQL_PARSE_FAILED") in reasons, reasons


async def test_an_untrusted_subscription_is_refused_and_audited(
    fresh_city_database_url: str,
) -> None:
    url = fresh_city_database_url
    settings = hub_settings(url)
    settings = settings.model_copy(
        update={
            "edge": settings.edge.model_copy(
                update={"trusted_documents_only": frozenset({"lks_partner"})}
            )
        }
    )
    async with (
        live_hub(settings) as hub,
        TransportWs.open(hub.ws_url, init_payload(hub, "lks_partner")) as ws,
    ):
        await ws.subscribe("1", "subscription { needOpened { id status } }")
        errors = await ws.next_errors()
        assert errors[0]["extensions"]["code"] == "DOCUMENT_NOT_TRUSTED"
    audited = await sql(
        url,
        "SELECT decision, reason FROM audit_events WHERE operation_type = 'subscription'",
    )
    assert [row["decision"] for row in audited] == ["DENIED"], audited
    assert audited[0]["reason"].startswith("DOCUMENT_NOT_TRUSTED"), audited
