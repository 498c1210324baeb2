"""The spreadsheet export (Python's standard library only), run unmodified: every open need
the foundation may see, across pages, in a CSV a spreadsheet opens."""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.examples import EXAMPLES, Credentials, ExampleHub, run_example

pytestmark = pytest.mark.slow


async def _open_needs(example_hub: ExampleHub, issued: Credentials) -> int:
    """How many open needs the hub gives this foundation, asked directly."""
    assert issued.secret is not None
    async with httpx.AsyncClient(base_url=example_hub.url) as http:
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
    total: int = answer.json()["data"]["needs"]["totalCount"]
    return total


async def test_the_feed_as_csv(example_hub: ExampleHub, tmp_path: Path) -> None:
    issued = example_hub.create_client(example_hub.foundation, "lks_partner")
    total = await _open_needs(example_hub, issued)
    assert total >= 3  # (other examples on this hub pledge a few)
    target = tmp_path / "kebutuhan.csv"
    out = run_example(
        [sys.executable, "feed_to_csv.py", str(target)],
        cwd=EXAMPLES / "spreadsheet",
        # At least three pages, so that the script has to follow the cursor.
        env=example_hub.env(issued, PAGE_SIZE=str(total // 3)),
    )
    found = re.search(r"(\d+) open needs written to", out)
    assert found, out
    with target.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == int(found.group(1)) == total
    assert {"id", "tingkat", "kecamatan", "nama", "uraian"} <= set(rows[0])
    assert len({row["id"] for row in rows}) == len(rows)  # no page read twice
