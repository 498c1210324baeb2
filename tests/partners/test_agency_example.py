"""The agency example: a key pair instead of a secret (private_key_jwt), a profile read
with a purpose, run unmodified against a live hub."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from tests.support.examples import EXAMPLES, ExampleHub, run_example

pytestmark = pytest.mark.slow
PROJECT = EXAMPLES / "agency"


async def test_the_agency_journey_with_private_key_jwt(
    example_hub: ExampleHub, tmp_path: Path
) -> None:
    private, public = tmp_path / "agency-key.pem", tmp_path / "agency-public.json"
    made = run_example(
        [sys.executable, "make_key.py", str(private), str(public)], cwd=PROJECT, env={}
    )
    assert "send to Dinsos" in made
    assert private.stat().st_mode & 0o077 == 0  # only the agency reads its private key
    assert "PRIVATE" not in public.read_text() and '"d"' not in public.read_text()
    issued = example_hub.create_client("DINKES", "opd_officer", "--jwk", str(public), "--no-secret")
    assert issued.secret is None

    out = run_example(
        [sys.executable, "agency.py"],
        cwd=PROJECT,
        env=example_hub.env(issued, PRIVATE_KEY_FILE=str(private)),
    )
    assert f"signed in as {issued.client_id} (DINKES, OPD_OFFICER)" in out, out
    assert "without X-Purpose: PURPOSE_REQUIRED" in out, out
    # With a purpose the agency sees the person in full: a 16-digit NIK, not a mask.
    assert re.search(r"with X-Purpose ELIGIBILITY_CHECK: \d{16} \w", out), out
    assert re.search(r"household \d{16}, ", out), out
