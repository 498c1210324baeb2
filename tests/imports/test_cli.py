"""`hub import dtks` on the command line: the summary it prints, and a refused file."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from hub.cli import app
from hub.synthetic.dtks import write_export


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
