"""A foundation's first journey on the Satu Pintu Hub.

1. get a token with the client id and secret Dinsos issued (OAuth2 client credentials);
2. print the open needs the foundation may help with (its feed), most urgent first;
3. pledge the first one it can, and read the delivery details the pledge unlocks;
4. record what it delivered, with the SHA-256 of the evidence and an idempotency key,
   then send the very same request again (as after a timeout): the hub returns the first
   record and writes nothing new.

Reads HUB_URL, CLIENT_ID and CLIENT_SECRET from the environment; EVIDENCE_FILE optionally
names the receipt or photo whose SHA-256 goes with the contribution.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sys
import uuid
from typing import Any

from authlib.integrations.requests_client import OAuth2Session
from gql import Client, GraphQLRequest
from gql.transport.requests import RequestsHTTPTransport

FEED = """
query Feed($first: Int!) {
  me { clientId organization { code name } }
  needs(first: $first, filter: {status: [OPEN]}, orderBy: URGENT) {
    totalCount
    nodes {
      id severity waitingDays description
      category { code labelId }
      kecamatan { name } kelurahan { name }
      citizen { id fullName ageBand }
    }
  }
}
"""

PLEDGE = """
mutation Pledge($id: ID!) {
  pledgeNeed(id: $id) {
    pledge { expiresAt }
    need { id citizen { fullName phone household { address rt rw } } }
    warnings { message }
    errors { code message }
  }
}
"""

RECORD = """
mutation Record($input: RecordContributionInput!) {
  recordContribution(input: $input) {
    created
    contribution { id kind amount deliveredOn evidenceSha256 }
    warnings { message }
    errors { code message }
  }
}
"""


def connect() -> Client:
    """A GraphQL client carrying a fresh access token and the purpose of our reads."""
    hub = os.environ["HUB_URL"].rstrip("/")
    oauth = OAuth2Session(os.environ["CLIENT_ID"], os.environ["CLIENT_SECRET"])
    token = oauth.fetch_token(f"{hub}/oauth/token", grant_type="client_credentials")
    transport = RequestsHTTPTransport(
        url=f"{hub}/graphql",
        headers={
            "Authorization": f"Bearer {token['access_token']}",
            # We read people's details to deliver help: the one purpose a foundation states.
            "X-Purpose": "SERVICE_DELIVERY",
        },
        timeout=30,
    )
    return Client(transport=transport)


def run(client: Client, document: str, **variables: Any) -> dict[str, Any]:
    """Execute one operation; its data."""
    result: dict[str, Any] = client.execute(GraphQLRequest(document, variable_values=variables))
    return result


def evidence_sha256() -> str:
    """The SHA-256 of the evidence file, or of a stand-in receipt for this demonstration."""
    path = os.environ.get("EVIDENCE_FILE")
    if not path:
        return hashlib.sha256(b"Tanda terima paket sembako, contoh").hexdigest()
    with open(path, "rb") as evidence:
        return hashlib.sha256(evidence.read()).hexdigest()


def main() -> int:
    client = connect()
    feed = run(client, FEED, first=10)
    me = feed["me"]
    print(f"signed in as {me['clientId']} ({me['organization']['name']})")
    needs = feed["needs"]
    print(f"feed: {needs['totalCount']} open needs; the most urgent:")
    for need in needs["nodes"]:
        print(
            f"  {need['id']:<14} {need['severity']:<8} {need['category']['code']:<15} "
            f"{need['kecamatan']['name']:<16} waiting {need['waitingDays']:>3} d  "
            f"{need['citizen']['fullName']}"
        )

    for need in needs["nodes"]:
        pledged = run(client, PLEDGE, id=need["id"])["pledgeNeed"]
        if not pledged["errors"]:
            break
        print(f"  cannot pledge {need['id']}: {pledged['errors'][0]['code']}")
    else:
        print("no need could be pledged")
        return 1
    person = pledged["need"]["citizen"]
    home = person["household"]
    print(f"pledged {need['id']} until {pledged['pledge']['expiresAt']}")
    print(f"deliver to: {person['fullName']}, {home['address']} RT {home['rt']}/RW {home['rw']}")

    contribution = {
        "citizen": need["citizen"]["id"],
        "need": need["id"],
        "category": need["category"]["code"],
        "kind": "IN_KIND",
        "amount": "350000",
        "quantity": 1,
        "unit": "paket",
        "deliveredOn": dt.date.today().isoformat(),
        "evidenceSha256": evidence_sha256(),
        # One key per contribution, kept with it: a retry with the same key is harmless.
        "idempotencyKey": str(uuid.uuid4()),
    }
    first = run(client, RECORD, input=contribution)["recordContribution"]
    if first["errors"]:
        print(f"refused: {first['errors']}")
        return 1
    print(f"recorded {first['contribution']['id']} (created: {first['created']})")
    # As if the answer had been lost: the same request again, with the same key.
    retry = run(client, RECORD, input=contribution)["recordContribution"]
    same = retry["contribution"]["id"] == first["contribution"]["id"]
    print(f"retry with the same key: created: {retry['created']}, same record: {same}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
