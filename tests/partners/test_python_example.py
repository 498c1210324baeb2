"""The Python example (authlib + gql), run unmodified against a live hub."""

from __future__ import annotations

import re
import sys

import pytest

from tests.support.examples import EXAMPLES, ExampleHub, run_example

pytestmark = pytest.mark.slow


async def test_the_python_foundation_journey(example_hub: ExampleHub) -> None:
    issued = example_hub.create_client(example_hub.foundation, "lks_partner")
    out = run_example(
        [sys.executable, "foundation.py"], cwd=EXAMPLES / "python", env=example_hub.env(issued)
    )
    assert f"signed in as {issued.client_id}" in out
    assert re.search(r"feed: [1-9]\d* open needs", out), out
    assert re.search(r"pledged \S+ until ", out), out
    # Before the pledge the names are initials; after it, the full name and address.
    assert re.search(r"deliver to: [A-Z][a-z]+[^,]*[a-z], .+ RT \d+/RW \d+", out), out
    assert re.search(r"recorded \S+ \(created: True\)", out), out
    assert "retry with the same key: created: False, same record: True" in out
