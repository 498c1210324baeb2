"""An agency (OPD) server reading a citizen's profile from the Satu Pintu Hub.

It authenticates with its key pair instead of a secret (`private_key_jwt`, RFC 7523: a
short JWT signed with the private key proves who it is; no secret travels or is stored),
then reads one person's profile, stating why: once without a purpose, to show what the hub
answers, then with `X-Purpose: ELIGIBILITY_CHECK`.

Reads HUB_URL, CLIENT_ID and PRIVATE_KEY_FILE (the PEM `make_key.py` wrote) from the
environment, and CITIZEN_NIK (else the first person the hub lists).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc.jwk import ECKey

PROFILE = """
query Profile($nik: NIK!) {
  citizen(nik: $nik) {
    nik fullName birthDate sex phone
    household { kkNumber address rt rw welfareDecile kelurahan { name } }
    needs { status category { code } }
    enrolments { active program { code name } }
  }
}
"""


def connect() -> OAuth2Session:
    """An HTTP session that holds an access token got with private_key_jwt."""
    hub = os.environ["HUB_URL"].rstrip("/")
    token_url = f"{hub}/oauth/token"
    with open(os.environ["PRIVATE_KEY_FILE"], "rb") as pem:
        private_key = ECKey.import_key(pem.read())
    session = OAuth2Session(
        os.environ["CLIENT_ID"],
        private_key,
        token_endpoint_auth_method=PrivateKeyJWT(token_url, alg="ES256"),
    )
    session.fetch_token(token_url, grant_type="client_credentials")
    return session


def graphql(
    session: OAuth2Session, query: str, purpose: str | None = None, **variables: Any
) -> dict[str, Any]:
    """POST one operation (the session adds the bearer token); the response body."""
    headers = {"X-Purpose": purpose} if purpose else {}
    response = session.post(
        f"{os.environ['HUB_URL'].rstrip('/')}/graphql",
        json={"query": query, "variables": variables},
        headers=headers,
        timeout=30,
    )
    body: dict[str, Any] = response.json()
    return body


def main() -> int:
    session = connect()
    me = graphql(session, "{ me { clientId roles organization { code } } }")["data"]["me"]
    print(f"signed in as {me['clientId']} ({me['organization']['code']}, {' '.join(me['roles'])})")
    nik = os.environ.get("CITIZEN_NIK")
    if not nik:
        listed = graphql(session, "{ citizens(first: 1) { nodes { nik } } }", "ELIGIBILITY_CHECK")
        nik = listed["data"]["citizens"]["nodes"][0]["nik"]

    refused = graphql(session, PROFILE, nik=nik)
    codes = sorted({e["extensions"]["code"] for e in refused.get("errors", [])})
    print(f"without X-Purpose: {', '.join(codes) or 'no error'}")

    answer = graphql(session, PROFILE, "ELIGIBILITY_CHECK", nik=nik)
    if answer.get("errors"):
        print(json.dumps(answer["errors"], indent=2))
        return 1
    person = answer["data"]["citizen"]
    home = person["household"]
    print(f"with X-Purpose ELIGIBILITY_CHECK: {person['nik']} {person['fullName']}")
    print(f"  household {home['kkNumber']}, {home['address']} RT {home['rt']}/RW {home['rw']},")
    print(f"  kelurahan {home['kelurahan']['name']}, welfare decile {home['welfareDecile']}")
    print(f"  needs: {len(person['needs'])}, programme enrolments: {len(person['enrolments'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
