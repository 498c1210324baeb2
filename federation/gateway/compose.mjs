// Compose subgraph SDLs into a supergraph with @theguild/federation-composition.
//
//   node compose.mjs [subgraphs.json] [supergraph.graphql]
//
// subgraphs.json lists { "name", "url", "sdl" } per subgraph; `sdl` is a file path relative
// to the JSON file (each subgraph's `_service { sdl }`, e.g. the hub's committed
// schema/hub.subgraph.graphql). Exits 1, printing every composition error, when the
// subgraphs do not compose: a gateway never starts on a half-composed graph.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { composeServices, compositionHasErrors } from '@theguild/federation-composition';
import { parse } from 'graphql';

const configPath = resolve(process.argv[2] ?? 'subgraphs.json');
const outputPath = resolve(process.argv[3] ?? 'supergraph.graphql');
const subgraphs = JSON.parse(readFileSync(configPath, 'utf8'));

const services = subgraphs.map(({ name, url, sdl }) => ({
  name,
  url,
  typeDefs: parse(readFileSync(resolve(dirname(configPath), sdl), 'utf8')),
}));
const result = composeServices(services);
if (compositionHasErrors(result)) {
  for (const error of result.errors) {
    console.error(`composition error: ${error.message}`);
  }
  process.exit(1);
}
writeFileSync(outputPath, result.supergraphSdl);
console.log(`composed ${services.map((s) => s.name).join(' + ')} into ${outputPath}`);
