"""Print the needs that open in your foundation's area, as they open (graphql-transport-ws).

pip install "gql[websockets]" httpx
HUB_URL=http://127.0.0.1:8000 CLIENT_ID=… CLIENT_SECRET=… python subscribe.py
"""

from __future__ import annotations

import asyncio
import os

import httpx
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport

HUB = os.environ.get("HUB_URL", "http://127.0.0.1:8000")
NEEDS = gql(
    """
    subscription {
      needOpened(filter: {minSeverity: MEDIUM}) {
        id severity waitingDays category { labelId } kelurahan { name } kecamatan { name }
      }
    }
    """
)


def token() -> str:
    """An access token by client credentials (RFC 6749 §4.4)."""
    response = httpx.post(
        f"{HUB}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(os.environ["CLIENT_ID"], os.environ["CLIENT_SECRET"]),
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


async def main() -> None:
    while True:  # tokens last 15 minutes: the hub then closes with 4403; connect again
        transport = WebsocketsTransport(
            url=HUB.replace("http", "ws", 1) + "/graphql",
            init_payload={"Authorization": f"Bearer {token()}", "X-Purpose": "SERVICE_DELIVERY"},
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        )
        try:
            async with Client(transport=transport) as session:
                async for event in session.subscribe(NEEDS):
                    print(event["needOpened"])
        except Exception as error:  # closed (token expired, hub restarting): reconnect
            print(f"disconnected ({error}); reconnecting")
            await asyncio.sleep(2)


if __name__ == "__main__":
    asyncio.run(main())
