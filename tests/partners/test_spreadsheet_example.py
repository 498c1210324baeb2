"""The spreadsheet export (Python's standard library only), run unmodified: every open need
the foundation may see, across pages, in a CSV a spreadsheet opens."""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

import httpx
import pytest

from tests.partners.conftest import EXAMPLES, LiveHub, run_example

pytestmark = pytest.mark.slow


async def test_the_feed_as_csv(live_hub: LiveHub, tmp_path: Path) -> None:
    issued = live_hub.create_client(live_hub.foundation, "lks_partner")
    target = tmp_path / "kebutuhan.csv"
    out = run_example(
        [sys.executable, "feed_to_csv.py", str(target)],
        cwd=EXAMPLES / "spreadsheet",
        env=live_hub.env(issued, PAGE_SIZE="4"),  # several pages, even in a small city
    )
    found = re.search(r"(\d+) open needs written to", out)
    assert found, out
    with target.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == int(found.group(1)) > 4
    assert {"id", "tingkat", "kecamatan", "nama", "uraian"} <= set(rows[0])

    # The same count the hub gives this foundation for its open needs.
    assert issued.secret is not None
    async with httpx.AsyncClient(base_url=live_hub.url) as http:
        token = (
            await http.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(issued.client_id, issued.secret),
            )
        ).json()["access_token"]
        answer = await http.post(
            "/graphql",
            json={"query": "{ needs(filter: {status: [OPEN]}) { totalCount } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert len(rows) == answer.json()["data"]["needs"]["totalCount"]
    assert len({row["id"] for row in rows}) == len(rows)  # no page read twice
