// Apollo Client on a role held to the trusted documents (HUB_TRUSTED_DOCUMENTS_ONLY): the
// persisted-query link sends the manifest's id as the hash, found by the operation's name,
// so the hub runs its own copy of the document (run by tests/edge/test_apollo_apq.py).
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { getMainDefinition } from "@apollo/client/utilities";
import { readFileSync } from "node:fs";

const { HUB_URL, HUB_AUTHORIZATION, MANIFEST } = process.env;
const manifest = JSON.parse(readFileSync(MANIFEST, "utf8"));
const ids = Object.fromEntries(manifest.operations.map((o) => [o.name, o.id]));

const requests = [];
async function recordingFetch(url, options) {
  const sent = JSON.parse(options.body);
  const response = await fetch(url, options);
  requests.push({
    hash: sent.extensions?.persistedQuery?.sha256Hash ?? null,
    withText: typeof sent.query === "string" && sent.query.length > 0,
    status: response.status,
  });
  return response;
}

const link = new PersistedQueryLink({
  generateHash: (document) => ids[getMainDefinition(document).name.value],
}).concat(
  new HttpLink({
    uri: `${HUB_URL}/graphql`,
    fetch: recordingFetch,
    headers: { authorization: HUB_AUTHORIZATION, "x-purpose": "SERVICE_DELIVERY" },
  }),
);
const client = new ApolloClient({ link, cache: new InMemoryCache() });
// The same operation as schema/operations/stats.graphql (its name finds the id).
const { data, error } = await client.query({
  query: gql`
    query PublicStats {
      stats {
        asOf
      }
    }
  `,
  fetchPolicy: "no-cache",
});
const asOf = data?.stats?.asOf ?? null;
console.log(JSON.stringify({ requests, asOf, error: error ? String(error) : null }));
