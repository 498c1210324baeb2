"""Webhooks: registered through GraphQL, sent signed per Standard Webhooks, retried,
disabled after repeated failure; receivers on loopback verify with `standardwebhooks`."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from hub.db import session_factory
from hub.events.errors import WebhookError
from hub.events.outbox import attach
from hub.events.service import check_url
from hub.events.webhooks import WebhookWorker
from hub.graphql.relay import to_global_id
from hub.settings import EventSettings
from tests.events.conftest import VERIFY, Area, add_foundation, choose_area, receiver
from tests.support.api import Api, close_api, make_api

REGISTER = """mutation($input: RegisterWebhookInput!) {
  registerWebhook(input: $input) {
    endpoint { id url status events filter { kecamatan } }
    secret
    errors { code message }
  }
}"""
ROTATE = """mutation($id: ID!) {
  rotateWebhookSecret(id: $id) { secret errors { code message } }
}"""
DELIVERIES = """{
  webhookDeliveries(first: 10) {
    totalCount
    nodes { id event needId status attemptCount
            attempts { number statusCode latencyMs error } }
  }
}"""
ENDPOINTS = "{ webhooks { id status disabledReason } }"

QUICK = EventSettings(
    webhook_poll_seconds=0.05,
    webhook_backoff_seconds=0.02,
    webhook_backoff_max_seconds=0.1,
    webhook_timeout_seconds=5,
)


@dataclasses.dataclass
class Setup:
    api: Api
    area: Area
    who: str

    def worker(self, settings: EventSettings = QUICK) -> WebhookWorker:
        app = self.api.app
        sessions = session_factory(app.state.engine, write=True)
        attach(sessions, app.state.realtime.bus)
        url = str(app.state.settings.database_url)
        return WebhookWorker(
            sessions,
            app.state.policies,
            settings,
            production=False,
            postgres=url.startswith("postgresql"),
            client=httpx.AsyncClient(),
        )

    async def register(self, url: str, events: list[str] | None = None) -> dict[str, Any]:
        data = await self.api.as_(self.who).data(
            REGISTER,
            {"input": {"url": url, "events": events or ["NEED_OPENED"]}},
        )
        payload: dict[str, Any] = data["registerWebhook"]
        assert payload["errors"] == [], payload
        return payload

    async def open(self, need_id: int) -> None:
        data = await self.api.data(VERIFY, {"id": to_global_id("Need", need_id)})
        assert data["verifyNeed"]["need"]["status"] == "OPEN"


@pytest.fixture
async def setup(fresh_city_database_url: str) -> AsyncIterator[Setup]:
    url = fresh_city_database_url
    area = await choose_area(url)
    foundation = await add_foundation(
        url, "RT-HOOK", kecamatan=area.kecamatan, category=area.category
    )
    api = await make_api(url)
    api.identities[foundation.who] = foundation
    yield Setup(api, area, foundation.who)
    await close_api(api)


async def _until(worker: WebhookWorker, done: Any, rounds: int = 200) -> None:
    for _ in range(rounds):
        await worker.run_once()
        if done():
            return
        await asyncio.sleep(0.03)
    raise AssertionError("the worker did not get there")


async def test_a_delivery_is_signed_and_carries_no_personal_data(setup: Setup) -> None:
    async with receiver() as hook:
        registered = await setup.register(hook.url)
        assert registered["secret"].startswith("whsec_")
        assert registered["endpoint"]["status"] == "ACTIVE"
        hook.secrets = [registered["secret"]]
        await setup.open(setup.area.outside)  # not in the foundation's kecamatan
        await setup.open(setup.area.inside)
        worker = setup.worker()
        try:
            await _until(worker, lambda: len(hook.requests) >= 1)
            await worker.run_once()
        finally:
            await worker.stop()
            assert worker.client is not None
            await worker.client.aclose()
    assert len(hook.requests) == 1, [r["body"] for r in hook.requests]
    request = hook.requests[0]
    assert request["verified"] == [True]
    body = request["body"]
    assert body["type"] == "need.opened"
    assert body["data"]["need"] == to_global_id("Need", setup.area.inside)
    assert body["data"]["kecamatan"] == setup.area.kecamatan
    text = str(body)
    for personal in ("fullName", "nik", "address", "phone", "description"):
        assert personal not in text
    assert request["headers"]["webhook-id"].startswith("msg_")


async def test_a_failing_receiver_sees_the_retries(setup: Setup) -> None:
    async with receiver(fail_first=3) as hook:
        registered = await setup.register(hook.url)
        hook.secrets = [registered["secret"]]
        await setup.open(setup.area.inside)
        worker = setup.worker()
        try:
            await _until(worker, lambda: len(hook.requests) >= 4)
            await worker.run_once()
        finally:
            assert worker.client is not None
            await worker.client.aclose()
    # The same message each time: one webhook-id, every copy verifiable.
    assert len({r["headers"]["webhook-id"] for r in hook.requests}) == 1
    assert all(r["verified"] == [True] for r in hook.requests)
    data = await setup.api.as_(setup.who).data(DELIVERIES)
    (delivery,) = data["webhookDeliveries"]["nodes"]
    assert delivery["status"] == "DELIVERED" and delivery["attemptCount"] == 4
    assert [a["statusCode"] for a in delivery["attempts"]] == [500, 500, 500, 204]
    assert all(a["latencyMs"] >= 0 for a in delivery["attempts"])
    assert delivery["attempts"][0]["error"] == "HTTP 500"
    # Another organisation sees none of it.
    other = await setup.api.as_("lks_partner").data(DELIVERIES)
    assert other["webhookDeliveries"]["totalCount"] == 0


async def test_an_endpoint_that_keeps_failing_is_disabled(setup: Setup) -> None:
    async with receiver(fail_first=100) as hook:
        await setup.register(hook.url)
        await setup.open(setup.area.inside)
        worker = setup.worker(QUICK.model_copy(update={"webhook_max_attempts": 3}))
        try:
            await _until(worker, lambda: len(hook.requests) >= 3)
            for _ in range(5):
                await worker.run_once()
                await asyncio.sleep(0.05)
        finally:
            assert worker.client is not None
            await worker.client.aclose()
    assert len(hook.requests) == 3
    (endpoint,) = (await setup.api.as_(setup.who).data(ENDPOINTS))["webhooks"]
    assert endpoint["status"] == "DISABLED"
    assert "failed 3 attempts" in endpoint["disabledReason"]
    assert "HTTP 500" in endpoint["disabledReason"]


async def test_after_a_rotation_both_secrets_sign_for_a_while(setup: Setup) -> None:
    async with receiver() as hook:
        registered = await setup.register(hook.url)
        old = registered["secret"]
        rotated = await setup.api.as_(setup.who).data(ROTATE, {"id": registered["endpoint"]["id"]})
        new = rotated["rotateWebhookSecret"]["secret"]
        assert new.startswith("whsec_") and new != old
        hook.secrets = [old, new]
        await setup.open(setup.area.inside)
        worker = setup.worker()
        try:
            await _until(worker, lambda: len(hook.requests) >= 1)
        finally:
            assert worker.client is not None
            await worker.client.aclose()
    request = hook.requests[0]
    assert request["verified"] == [True, True]
    assert len(request["headers"]["webhook-signature"].split(" ")) == 2


async def test_registration_refuses_bad_input(setup: Setup) -> None:
    api = setup.api.as_(setup.who)
    body = await api.query(
        REGISTER, {"input": {"url": "ftp://example.org/hook", "events": ["NEED_OPENED"]}}
    )
    (error,) = body["data"]["registerWebhook"]["errors"]
    assert error["code"] == "INVALID_URL" and "http" in error["message"]
    body = await api.query(REGISTER, {"input": {"url": "http://127.0.0.1/x", "events": []}})
    assert body["data"]["registerWebhook"]["errors"][0]["code"] == "INVALID_INPUT"
    body = await api.query(
        REGISTER,
        {
            "input": {
                "url": "http://127.0.0.1/x",
                "events": ["NEED_OPENED"],
                "filter": {"kecamatan": ["nope"]},
            }
        },
    )
    assert body["errors"][0]["extensions"]["code"] == "INVALID_REGION_CODE"
    body = await setup.api.as_("auditor", purpose=None).query(
        REGISTER, {"input": {"url": "http://127.0.0.1/x", "events": ["NEED_OPENED"]}}
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://[::1]/hook",
        "https://169.254.169.254/latest",
        "http://203.0.113.9/hook",
    ],
)
async def test_private_and_loopback_addresses_are_refused_in_production(url: str) -> None:
    with pytest.raises(WebhookError) as refused:
        await check_url(url, production=True)
    assert refused.value.code.value == "INVALID_URL"
    if url.startswith("https://"):
        await check_url(url, production=False)  # development: receivers on loopback
