"""Every `sh` block of the partners' guide (both languages), run against a live hub.

The blocks run in order, each in its own `bash -euo pipefail` from the top of a copy of
the repository's `partners/` folder, as a reader would paste them. The lines that set
HUB_URL, CLIENT_ID or CLIENT_SECRET to the guide's placeholder values are left out: the test
gives a foundation's real ones. `hub` and `python` are this checkout's.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.examples import ROOT, ExampleHub

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (shutil.which("curl") and shutil.which("jq") and shutil.which("npm")),
        reason="the guide's commands use curl, jq and npm",
    ),
]
BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)
PLACEHOLDER = re.compile(r"^export (HUB_URL|CLIENT_ID|CLIENT_SECRET)=.*$", re.MULTILINE)
#: What each kind of block must print, by a command it holds.
EXPECTED = {
    "hub orgs import": "lks.sample.csv:",
    '/oauth/token"\n': '"access_token"',
    "jq .": '"totalCount"',
    "foundation.sh": "same record: true",
    "foundation.py": "same record: True",
    "foundation.mjs": "same record: True",
    "feed_to_csv.py": "open needs written to kebutuhan.csv",
    "agency.py": "with X-Purpose ELIGIBILITY_CHECK:",
}


def blocks(guide: Path) -> list[str]:
    """The guide's `sh` blocks, without the lines that set the placeholder credentials."""
    return [PLACEHOLDER.sub("", block) for block in BLOCK.findall(guide.read_text())]


@pytest.mark.parametrize("guide", ["README.md", "README.id.md"])
def test_every_command_of_the_guide_runs(
    example_hub: ExampleHub, tmp_path: Path, guide: str
) -> None:
    found = blocks(ROOT / "partners" / guide)
    assert len(found) >= 8, f"{guide} has {len(found)} sh blocks"
    shutil.copytree(
        ROOT / "partners", tmp_path / "partners", ignore=shutil.ignore_patterns("node_modules")
    )
    issued = example_hub.create_client(example_hub.foundation, "lks_partner")
    env = {
        **example_hub.env(issued),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "HUB_DATABASE_URL": example_hub.database_url,
        "HUB_VAR_DIR": str(example_hub.var_dir),
        "COLUMNS": "200",
    }
    # Each kind of block is there (else its check below would be vacuous).
    assert all(any(command in block for block in found) for command in EXPECTED), guide
    for block in found:
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        output = done.stdout + done.stderr
        assert done.returncode == 0, f"{guide}: this block failed:\n{block}\n{output}"
        for command, expected in EXPECTED.items():
            if command in block:
                assert expected in output, f"{guide}: {block}\nprinted:\n{output}"
