// Print the needs that open in your foundation's area, as they open (graphql-transport-ws).
//
//   npm ci
//   HUB_URL=http://127.0.0.1:8000 CLIENT_ID=… CLIENT_SECRET=… node subscribe.mjs
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const hub = process.env.HUB_URL ?? "http://127.0.0.1:8000";

async function token() {
  const response = await fetch(`${hub}/oauth/token`, {
    method: "POST",
    headers: {
      authorization:
        "Basic " + Buffer.from(`${process.env.CLIENT_ID}:${process.env.CLIENT_SECRET}`).toString("base64"),
      "content-type": "application/x-www-form-urlencoded",
    },
    body: "grant_type=client_credentials",
  });
  if (!response.ok) throw new Error(`token: HTTP ${response.status}`);
  return (await response.json()).access_token;
}

const client = createClient({
  url: hub.replace(/^http/, "ws") + "/graphql",
  webSocketImpl: WebSocket,
  // Called on every (re)connection: a fresh token each time (they last 15 minutes).
  connectionParams: async () => ({
    Authorization: `Bearer ${await token()}`,
    "X-Purpose": "SERVICE_DELIVERY",
  }),
  retryAttempts: Infinity,
  shouldRetry: () => true,
});

const needs = client.iterate({
  query: `subscription {
    needOpened(filter: {minSeverity: MEDIUM}) {
      id severity waitingDays category { labelId } kelurahan { name } kecamatan { name }
    }
  }`,
});
for await (const event of needs) {
  console.log(event.data?.needOpened ?? event.errors);
}
