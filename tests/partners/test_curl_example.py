"""The shell example (curl), run unmodified with jq and with python3's json.tool instead."""

from __future__ import annotations

import re
import shutil

import pytest

from tests.support.examples import EXAMPLES, ExampleHub, run_example

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed"),
]


@pytest.mark.parametrize(
    "no_jq",
    [
        pytest.param("0", marks=pytest.mark.skipif(not shutil.which("jq"), reason="no jq")),
        "1",
    ],
    ids=["jq", "python-json-tool"],
)
async def test_the_curl_foundation_journey(example_hub: ExampleHub, no_jq: str) -> None:
    issued = example_hub.create_client(example_hub.foundation, "lks_partner")
    out = run_example(
        ["bash", "foundation.sh"], cwd=EXAMPLES / "curl", env=example_hub.env(issued, NO_JQ=no_jq)
    )
    assert f"signed in as {issued.client_id}" in out
    assert re.search(r"feed: [1-9]\d* open needs", out), out
    assert '"totalCount":' in out  # the feed, pretty-printed
    assert re.search(r"deliver to: [A-Z][a-z]+[^,]*[a-z], .+ RT \d+/RW \d+", out), out
    assert re.search(r"recorded \S+ \(created: true\)", out), out
    assert "retry with the same key: created: false, same record: true" in out
