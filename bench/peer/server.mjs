// The peer: PostGraphile 5 serving the benchmark's database read-only, N processes on one port.
//
//   PEER_DATABASE_URL=postgres://postgres@127.0.0.1:5432/hub_bench PEER_PORT=5600 \
//   PEER_WORKERS=2 node --import ./polyfill.mjs server.mjs
//
// Like `uvicorn --workers N`, a primary process forks N workers that all accept on the same
// listening socket (node:cluster with SCHED_NONE: the kernel hands each connection to one
// worker; the primary only supervises). Every connection is read-only: the server sets
// default_transaction_read_only at connect time, so nothing the peer runs can write.
import cluster from "node:cluster";
import { createServer } from "node:http";
import { postgraphile } from "postgraphile";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";
import { grafserv } from "postgraphile/grafserv/node";
import { FoundationRowRulePlugin } from "./rowrule.mjs";

const databaseUrl = process.env.PEER_DATABASE_URL;
const port = Number(process.env.PEER_PORT || 5600);
const workers = Number(process.env.PEER_WORKERS || 1);
// The hub's engine: a pool of 10 plus 10 overflow per worker (hub/db.py).
const poolMax = Number(process.env.PEER_POOL_MAX || 20);
// Idle connections close after a second (node-postgres keeps them 10 s by default): the
// servers share one PostgreSQL, and the next measurement must not find its connections
// taken by the previous one's idle pool.
const idleMillis = Number(process.env.PEER_POOL_IDLE_MS || 1000);

if (!databaseUrl) {
  console.error("PEER_DATABASE_URL is required (postgres://user@host:port/database)");
  process.exit(2);
}

function readOnly(url) {
  const parsed = new URL(url);
  parsed.searchParams.set("options", "-c default_transaction_read_only=on");
  return parsed.toString();
}

const preset = {
  extends: [PostGraphileAmberPreset],
  // Order and condition on every column, not only on the first column of an index.
  disablePlugins: ["PgIndexBehaviorsPlugin"],
  plugins: [FoundationRowRulePlugin],
  pgServices: [
    makePgService({
      connectionString: readOnly(databaseUrl),
      schemas: ["public"],
      poolConfig: { max: poolMax, idleTimeoutMillis: idleMillis },
    }),
  ],
  grafserv: { graphqlPath: "/graphql", graphiql: false, watch: false },
  grafast: { explain: false },
};

async function serve() {
  const pgl = postgraphile(preset);
  const serv = pgl.createServ(grafserv);
  const server = createServer();
  server.on("error", (error) => {
    console.error(`peer worker ${process.pid}: ${error.message}`);
    process.exit(1);
  });
  await serv.addTo(server);
  // Build the schema before accepting requests, so the first measurement does not pay it.
  await pgl.getSchema();
  server.listen(port, "127.0.0.1", () => {
    console.log(`peer worker ${process.pid} listening on 127.0.0.1:${port}`);
  });
  const stop = () => server.close(() => pgl.release().then(() => process.exit(0)));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

if (workers > 1 && cluster.isPrimary) {
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  for (let i = 0; i < workers; i += 1) cluster.fork();
  let stopping = false;
  cluster.on("exit", (worker, code, signal) => {
    console.error(`peer worker ${worker.process.pid} exited (${signal || code})`);
    if (!stopping) process.exit(1);
  });
  const stop = () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers)) worker.process.kill("SIGTERM");
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
} else {
  serve().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
