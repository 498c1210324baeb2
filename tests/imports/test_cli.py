"""`hub import dtks` on the command line: the summary it prints, and a refused file."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hub.cli import app
from hub.cli.seed import refused_lines_file
from hub.synthetic.dtks import write_export, write_next_month


def test_dry_run_prints_the_summary_and_a_bad_file_exits_1(
    empty_database_url: str, tmp_path: Path
) -> None:
    runner = CliRunner(env={"COLUMNS": "200", "HUB_VAR_DIR": str(tmp_path / "var")})
    export = tmp_path / "dtks.txt"
    write_export(export, citizens=300, seed=10, dirty=0.12)
    url = ["--database-url", empty_database_url]
    dry = runner.invoke(app, ["import", "dtks", str(export), "--dry-run", *url])
    assert dry.exit_code == 0, dry.output
    assert "dry run" in dry.output and "Dry run: nothing was written" in dry.output
    assert "households" in dry.output and "no longer listed" in dry.output
    assert "matched by similarity" in dry.output
    assert (tmp_path / "dtks.txt.rejects.csv").read_text().startswith("line,column,value")

    made = runner.invoke(app, ["seed", "--export-dtks", str(tmp_path / "next.txt"),
                               "--next-month", str(export)])  # fmt: skip
    assert made.exit_code == 0 and "changes:" in made.output

    broken = tmp_path / "broken.csv"
    broken.write_text("iddtks;nama\n1;Asep\n", encoding="utf-8")
    refused = runner.invoke(app, ["import", "dtks", str(broken), *url])
    assert refused.exit_code == 1
    assert "no column provinsi" in refused.output and "Nothing was written" in refused.output


def test_the_next_month_from_the_command_line_leaves_refused_households_alone(
    tmp_path: Path,
) -> None:
    # As `write_next_month(untouched=…)` does for the bench and the samples: the households
    # month 1's import refuses are copied as they are (noted beside the export by the CLI).
    runner = CliRunner(env={"COLUMNS": "200"})
    first, second = tmp_path / "m1.txt", tmp_path / "m2.txt"
    made = runner.invoke(app, ["seed", "--export-dtks", str(first), "--citizens", "6000",
                               "--seed", "3"])  # fmt: skip
    assert made.exit_code == 0, made.output
    expected = write_export(tmp_path / "again.txt", citizens=6000, seed=3)
    assert expected.refused_household_lines
    assert json.loads(refused_lines_file(first).read_text()) == expected.refused_household_lines
    made = runner.invoke(app, ["seed", "--export-dtks", str(second), "--seed", "3",
                               "--next-month", str(first)])  # fmt: skip
    assert made.exit_code == 0 and "changes:" in made.output and "No " not in made.output
    kept = tmp_path / "kept.txt"
    write_next_month(first, kept, seed=3, untouched=expected.refused_household_lines)
    assert second.read_bytes() == kept.read_bytes()
    # … which is not what the next month is when nothing is left alone (for this seed).
    careless = tmp_path / "careless.txt"
    write_next_month(first, careless, seed=3)
    assert careless.read_bytes() != kept.read_bytes()
