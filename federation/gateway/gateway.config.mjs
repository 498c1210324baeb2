// Hive Gateway in front of the Satu Pintu Hub and the agencies' subgraphs.
//
//   npx hive-gateway supergraph supergraph.graphql --port 4000
//
// The gateway holds no authority of its own: it forwards each caller's bearer token and
// stated purpose to every subgraph, so the hub applies the caller's row rules, masking,
// purpose check and audit to whatever part of a query reaches it (`_entities` included),
// and each agency applies its own. The request id lets the hub's audit events of one
// gateway request be found together.
import { defineConfig } from '@graphql-hive/gateway';

const FORWARDED = ['authorization', 'x-purpose', 'x-request-id'];

export const gatewayConfig = defineConfig({
  supergraph: process.env.SUPERGRAPH ?? './supergraph.graphql',
  // Re-read the supergraph file when it is rebuilt (docs/deploy.md), without a restart.
  pollingInterval: Number(process.env.SUPERGRAPH_POLL_MS ?? 10_000),
  propagateHeaders: {
    fromClientToSubgraphs({ request }) {
      const headers = {};
      for (const name of FORWARDED) {
        const value = request.headers.get(name);
        if (value) headers[name] = value;
      }
      return headers;
    },
  },
  graphiql: process.env.NODE_ENV !== 'production',
});
