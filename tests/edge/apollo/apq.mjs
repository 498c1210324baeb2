// Apollo Client's persisted-query link against a live hub (run by tests/edge/test_apollo_apq.py).
// Sends one query through PersistedQueryLink (sha256 from node:crypto) and HttpLink, and
// prints one JSON line: what each HTTP request carried (hash, text or not, method, status)
// and the data Apollo Client returned.
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { createHash } from "node:crypto";

const { HUB_URL, HUB_AUTHORIZATION, APQ_GET } = process.env;
const sha256 = (text) => createHash("sha256").update(text, "utf8").digest("hex");

const requests = [];
async function recordingFetch(url, options) {
  const sent = options.method === "GET"
    ? Object.fromEntries(new URL(url).searchParams)
    : JSON.parse(options.body);
  const extensions = typeof sent.extensions === "string" ? JSON.parse(sent.extensions) : sent.extensions;
  const response = await fetch(url, options);
  requests.push({
    method: options.method,
    hash: extensions?.persistedQuery?.sha256Hash ?? null,
    withText: typeof sent.query === "string" && sent.query.length > 0,
    status: response.status,
  });
  return response;
}

const link = new PersistedQueryLink({ sha256, useGETForHashedQueries: APQ_GET === "1" }).concat(
  new HttpLink({
    uri: `${HUB_URL}/graphql`,
    fetch: recordingFetch,
    headers: { authorization: HUB_AUTHORIZATION, "x-purpose": "SERVICE_DELIVERY" },
  }),
);
const client = new ApolloClient({ link, cache: new InMemoryCache() });
let data = null;
let error = null;
try {
  ({ data, error } = await client.query({
    query: gql`
      query ApqViewer {
        me {
          clientId
          organization {
            code
          }
        }
      }
    `,
    fetchPolicy: "network-only",
  }));
} catch (thrown) {
  error = thrown; // a refusal the link does not retry (DOCUMENT_NOT_TRUSTED, 403)
}
console.log(JSON.stringify({ requests, data, error: error ? String(error) : null }));
