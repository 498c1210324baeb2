"""The foundation's feed as a CSV file for a spreadsheet: no installation, Python 3 only.

    python3 feed_to_csv.py kebutuhan.csv

Writes every open need the foundation may help with (most urgent first), one row each,
following the pages of the list to the end. Open the file in LibreOffice Calc, Excel or
Google Sheets. Reads HUB_URL, CLIENT_ID and CLIENT_SECRET from the environment (and
PAGE_SIZE, 1 to 100, how many needs to ask for at a time; 100 unless set).
"""

from __future__ import annotations

import base64
import csv
import json
import os
import sys
import urllib.parse
import urllib.request
from typing import Any

HUB = os.environ["HUB_URL"].rstrip("/")
FEED = """
query Feed($first: Int!, $after: String) {
  needs(first: $first, after: $after, filter: {status: [OPEN]}, orderBy: URGENT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id severity waitingDays description openedAt
      category { labelId } ppksType { labelId }
      kecamatan { name } kelurahan { name }
      citizen { fullName ageBand sex }
    }
  }
}
"""
COLUMNS = [
    "id", "tingkat", "menunggu_hari", "kategori", "jenis_ppks", "kecamatan", "kelurahan",
    "nama", "usia", "jenis_kelamin", "uraian", "dibuka",
]  # fmt: skip


def post(path: str, data: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """POST to the hub; the JSON answer."""
    request = urllib.request.Request(f"{HUB}{path}", data=data, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        answer: dict[str, Any] = json.load(response)
        return answer


def token() -> str:
    """An access token for the client id and secret Dinsos issued."""
    pair = f"{os.environ['CLIENT_ID']}:{os.environ['CLIENT_SECRET']}".encode()
    form = urllib.parse.urlencode({"grant_type": "client_credentials"}).encode()
    headers = {"Authorization": "Basic " + base64.b64encode(pair).decode()}
    return str(post("/oauth/token", form, headers)["access_token"])


def main(path: str) -> int:
    headers = {"Authorization": f"Bearer {token()}", "Content-Type": "application/json"}
    first = int(os.environ.get("PAGE_SIZE", "100"))
    rows, after = 0, None
    # utf-8-sig: the byte-order mark tells Excel the file is UTF-8.
    with open(path, "w", newline="", encoding="utf-8-sig") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        while True:
            body = json.dumps(
                {"query": FEED, "variables": {"first": first, "after": after}}
            ).encode()
            answer = post("/graphql", body, headers)
            if answer.get("errors"):
                print(json.dumps(answer["errors"], indent=2), file=sys.stderr)
                return 1
            page = answer["data"]["needs"]
            for need in page["nodes"]:
                person = need["citizen"] or {}
                writer.writerow([
                    need["id"], need["severity"], need["waitingDays"],
                    (need["category"] or {}).get("labelId", ""),
                    (need["ppksType"] or {}).get("labelId", ""),
                    need["kecamatan"]["name"], need["kelurahan"]["name"],
                    person.get("fullName") or "", person.get("ageBand", ""),
                    person.get("sex", ""), need["description"], need["openedAt"] or "",
                ])  # fmt: skip
                rows += 1
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
    print(f"{rows} open needs written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "kebutuhan.csv"))
