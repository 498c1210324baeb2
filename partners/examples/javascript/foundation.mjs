// A foundation's first journey on the Satu Pintu Hub (Node 20, no build step):
// 1. a token with the client id and secret Dinsos issued (OAuth2 client credentials, fetch);
// 2. the open needs the foundation may help with (its feed), most urgent first;
// 3. pledge the first one it can, and read the delivery details the pledge unlocks;
// 4. record the delivery with the SHA-256 of its evidence and an idempotency key, then send
//    the very same request again (as after a timeout): the hub returns the first record.
// Reads HUB_URL, CLIENT_ID and CLIENT_SECRET; EVIDENCE_FILE optionally names the evidence.
import { createHash, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { GraphQLClient, gql } from "graphql-request";

const hub = process.env.HUB_URL.replace(/\/$/, "");

async function fetchToken() {
  const basic = Buffer.from(`${process.env.CLIENT_ID}:${process.env.CLIENT_SECRET}`).toString("base64");
  const response = await fetch(`${hub}/oauth/token`, {
    method: "POST",
    headers: { Authorization: `Basic ${basic}`, "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "client_credentials" }),
  });
  const body = await response.json();
  if (!response.ok) throw new Error(`token refused: ${body.error}: ${body.error_description}`);
  return body.access_token;
}

const FEED = gql`
  query Feed($first: Int!) {
    me { clientId organization { code name } }
    needs(first: $first, filter: {status: [OPEN]}, orderBy: URGENT) {
      totalCount
      nodes {
        id severity waitingDays
        category { code labelId }
        kecamatan { name }
        citizen { id fullName ageBand }
      }
    }
  }
`;

const PLEDGE = gql`
  mutation Pledge($id: ID!) {
    pledgeNeed(id: $id) {
      pledge { expiresAt }
      need { id citizen { fullName phone household { address rt rw } } }
      errors { code message }
    }
  }
`;

const RECORD = gql`
  mutation Record($input: RecordContributionInput!) {
    recordContribution(input: $input) {
      created
      contribution { id kind amount deliveredOn }
      errors { code message }
    }
  }
`;

function evidenceSha256() {
  const file = process.env.EVIDENCE_FILE;
  const data = file ? readFileSync(file) : Buffer.from("Tanda terima paket sembako, contoh");
  return createHash("sha256").update(data).digest("hex");
}

async function main() {
  const client = new GraphQLClient(`${hub}/graphql`, {
    headers: {
      Authorization: `Bearer ${await fetchToken()}`,
      // We read people's details to deliver help: the one purpose a foundation states.
      "X-Purpose": "SERVICE_DELIVERY",
    },
  });
  const { me, needs } = await client.request(FEED, { first: 10 });
  console.log(`signed in as ${me.clientId} (${me.organization.name})`);
  console.log(`feed: ${needs.totalCount} open needs; the most urgent:`);
  for (const need of needs.nodes) {
    console.log(`  ${need.id.padEnd(14)} ${need.severity.padEnd(8)} ${need.category.code.padEnd(15)} ` +
      `${need.kecamatan.name.padEnd(16)} waiting ${String(need.waitingDays).padStart(3)} d  ${need.citizen.fullName}`);
  }

  let need, pledged;
  for (need of needs.nodes) {
    ({ pledgeNeed: pledged } = await client.request(PLEDGE, { id: need.id }));
    if (pledged.errors.length === 0) break;
    console.log(`  cannot pledge ${need.id}: ${pledged.errors[0].code}`);
    pledged = null;
  }
  if (!pledged) {
    console.log("no need could be pledged");
    return 1;
  }
  const person = pledged.need.citizen;
  const home = person.household;
  console.log(`pledged ${need.id} until ${pledged.pledge.expiresAt}`);
  console.log(`deliver to: ${person.fullName}, ${home.address} RT ${home.rt}/RW ${home.rw}`);

  const input = {
    citizen: need.citizen.id,
    need: need.id,
    category: need.category.code,
    kind: "IN_KIND",
    amount: 350000,
    quantity: 1,
    unit: "paket",
    deliveredOn: new Date().toISOString().slice(0, 10),
    evidenceSha256: evidenceSha256(),
    // One key per contribution, kept with it: a retry with the same key is harmless.
    idempotencyKey: randomUUID(),
  };
  const { recordContribution: first } = await client.request(RECORD, { input });
  if (first.errors.length > 0) {
    console.log("refused:", first.errors);
    return 1;
  }
  console.log(`recorded ${first.contribution.id} (created: ${first.created ? "True" : "False"})`);
  // As if the answer had been lost: the same request again, with the same key.
  const { recordContribution: retry } = await client.request(RECORD, { input });
  const same = retry.contribution.id === first.contribution.id;
  console.log(`retry with the same key: created: ${retry.created ? "True" : "False"}, same record: ${same ? "True" : "False"}`);
  return 0;
}

process.exitCode = await main();
