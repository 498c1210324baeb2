"""The sample DTKS files in partners/samples/ are the demo city's, and import as the README says.

Generated earlier from another seed, the sample matched 56 of the demo's households by DTKS
id (and would have overwritten them with other families) and none of its 183 people by NIK.
Now it is the demo city's own first households: imported they become DTKS-listed and nothing
else changes; imported again nothing changes; the next month's file applies its changes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from hub.cli.demo import DEMO_CITIZENS, DEMO_SEED
from hub.cli.imports import run_import
from hub.synthetic import seed_city
from hub.synthetic.dtks import SAMPLE_FILES, write_demo_samples
from tests.imports.test_dtks import fetch, settings_for

SAMPLES = Path(__file__).parents[2] / "partners" / "samples"


@pytest.mark.slow
async def test_the_samples_are_the_demo_city_and_import_as_documented(
    empty_database_url: str, tmp_path: Path
) -> None:
    url = empty_database_url
    await seed_city(url, citizens=DEMO_CITIZENS, seed=DEMO_SEED)
    export, month = await write_demo_samples(url, tmp_path)
    for name in SAMPLE_FILES:  # regenerate with write_demo_samples (partners/samples/README)
        assert (tmp_path / name).read_bytes() == (SAMPLES / name).read_bytes(), name
    first, second = (SAMPLES / name for name in SAMPLE_FILES)
    settings = settings_for(url, tmp_path)

    listed = await run_import(settings, first, rejects=tmp_path / "r1.csv", dry_run=False)
    refused = len(export.refused_household_lines)
    assert listed.rows_rejected == refused
    assert listed.citizens.new == listed.households.new == 0  # everyone is known by NIK
    assert listed.citizens.changed == export.rows - refused
    with first.open(encoding="utf-8") as handle:
        iddtks = [line.split("|", 1)[0] for line in handle][1:]
    refused_households = {iddtks[line - 2] for line in export.refused_household_lines}
    assert listed.households.changed == export.households - len(refused_households)
    assert listed.households.unchanged == listed.citizens.unchanged == 0
    assert {d.text for d in listed.fuzzy} == set(export.misspellings)
    changed = await fetch(
        url,
        text(
            "SELECT DISTINCT changed_fields FROM citizens WHERE changed_via = 'IMPORT' "
            "UNION SELECT DISTINCT changed_fields FROM households WHERE changed_via = 'IMPORT'"
        ),
    )
    assert [tuple(row) for row in changed] == [("dtksListed",)]

    again = await run_import(settings, first, rejects=tmp_path / "r2.csv", dry_run=False)
    assert again.previous_imports
    assert (again.citizens.changed, again.households.changed) == (0, 0)
    assert again.citizens.unchanged == listed.citizens.changed

    applied = await run_import(settings, second, rejects=tmp_path / "r3.csv", dry_run=False)
    assert applied.households.new == month.changes["split"]
    assert applied.households.changed == len(month.readdressed) + len(month.rekeyed)
    assert applied.households.delisted == month.changes["household_delisted"]
    assert applied.citizens.new == len(month.new)
    assert applied.citizens.moved == applied.citizens.changed == len(month.moved)
    assert applied.citizens.delisted == len(month.delisted)
