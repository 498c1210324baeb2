"""A webhook receiver that accepts only deliveries signed by the hub (Standard Webhooks).

    pip install standardwebhooks starlette uvicorn
    WEBHOOK_SECRET=whsec_… uvicorn receive_webhook:app --port 9000

Register it with `registerWebhook(input: {url: "https://…/hub", events: [NEED_OPENED]})`
and keep the `secret` the mutation returns. Retries carry the same `webhook-id`: remember
the ids you handled, and answer 2xx quickly (do the work afterwards).
"""

from __future__ import annotations

import os

from standardwebhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

verifier = Webhook(os.environ["WEBHOOK_SECRET"])
handled: set[str] = set()


async def hub(request: Request) -> Response:
    body = await request.body()
    try:
        event = verifier.verify(body, dict(request.headers))
    except WebhookVerificationError:
        return Response("bad signature", status_code=401)
    message_id = request.headers["webhook-id"]
    if message_id not in handled:
        handled.add(message_id)
        # Ids and codes only: fetch the need with your own token, e.g. `need(id: …)`.
        print(event["type"], event["data"]["need"], event["data"].get("kecamatan"))
    return Response(status_code=204)


app = Starlette(routes=[Route("/hub", hub, methods=["POST"])])
