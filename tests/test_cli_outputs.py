"""Output files never cost what is already there: no command writes over the results database or an input, an
existing file is replaced only with --overwrite, a bad --out fails before the work, and a full disk leaves no
partial file. Real SQLite files, a real full filesystem (a small tmpfs mounted by the test; CI runs as root)."""

import hashlib
import os
import sqlite3
import subprocess
import tempfile
from contextlib import closing
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from commsim.cli.app import app
from commsim.store import database as store

runner = CliRunner()
SMALL = ["-n", "1500", "-m", "12", "--set", "population.villages=12", "--set", "population.facilities=3"]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def contents(database: Path) -> str:
    """A digest of every row of a SQLite database (not its bytes: opening it may checkpoint its WAL file)."""
    with closing(sqlite3.connect(database)) as connection:
        return hashlib.sha256("\n".join(connection.iterdump()).encode()).hexdigest()


def one_error(result) -> str:
    """The one `error:` message of a refused command: exit code 2, no traceback."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, AssertionError)
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.output
    return result.output.split("error: ", 1)[1].replace("\n", " ")


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> tuple[str, Path]:
    """A database with one run of baseline, and the directory that run wrote."""
    folder = tmp_path_factory.mktemp("outputs")
    url = f"sqlite:///{folder / 'runs.db'}"
    result = runner.invoke(app, ["run", "baseline", *SMALL, "--out", str(folder / "run1"), "--db", url])
    assert result.exit_code == 0, result.output
    return url, folder


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_export_never_writes_over_the_database_it_reads(stored, fmt, overwrite):
    url, folder = stored
    database = folder / "runs.db"
    before = contents(database)
    for target in (database, Path(f"{database}-wal")):
        args = ["results", "export", "--db", url, "--format", fmt, "--out", str(target), *overwrite]
        message = one_error(runner.invoke(app, args))
        assert "which this command reads" in message and str(target) in message
    assert contents(database) == before
    assert len(store.list_runs(store.open_store(url))) == 1


def test_an_existing_file_is_replaced_only_with_overwrite(stored, tmp_path):
    url, _ = stored
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n", encoding="utf-8")
    message = one_error(runner.invoke(app, ["results", "export", "--db", url, "--out", str(notes)]))
    assert "already exists" in message and "--overwrite" in message
    assert notes.read_text(encoding="utf-8") == "my notes\n"
    replaced = runner.invoke(app, ["results", "export", "--db", url, "--out", str(notes), "--overwrite"])
    assert replaced.exit_code == 0, replaced.output
    assert len(pd.read_csv(notes)) == 13  # months 0-12 of the one run
    assert not [p for p in tmp_path.iterdir() if p.name != "notes.txt"]  # no temporary file left beside it


def test_run_into_an_earlier_runs_directory_keeps_its_files(stored):
    url, folder = stored
    earlier = folder / "run1"
    before = {name: digest(earlier / name) for name in ("timeseries.csv", "scenario.toml", "summary.png")}
    args = ["run", "supply_fix", *SMALL, "--out", str(earlier), "--db", url]
    message = one_error(runner.invoke(app, args))
    assert "already holds" in message and "timeseries.csv" in message
    assert {name: digest(earlier / name) for name in before} == before
    assert len(store.list_runs(store.open_store(url))) == 1  # refused before it ran: nothing stored either


def test_run_with_overwrite_replaces_its_own_files_but_never_its_input(tmp_path):
    folder = tmp_path / "work"
    folder.mkdir()
    scenario = folder / "scenario.toml"  # the user's input, where the run would write its resolved scenario
    scenario.write_text(f'name = "mine"\nextends = "{_baseline()}"\n', encoding="utf-8")
    before = digest(scenario)
    args = ["run", str(scenario), *SMALL, "--out", str(folder), "--no-store", "--overwrite"]
    message = one_error(runner.invoke(app, args))
    assert "which this command reads" in message
    assert digest(scenario) == before
    other = tmp_path / "other"
    assert runner.invoke(app, ["run", str(scenario), *SMALL, "--out", str(other), "--no-store"]).exit_code == 0
    first = digest(other / "timeseries.csv")
    again = runner.invoke(app, ["run", str(scenario), *SMALL, "--out", str(other), "--no-store", "--overwrite"])
    assert again.exit_code == 0, again.output
    assert digest(other / "timeseries.csv") == first  # same scenario and seed: the same file, rewritten


def _baseline() -> str:
    from commsim.scenario.loader import resolve_path

    return str(resolve_path("baseline").resolve())


def test_export_of_an_unknown_batch_or_no_match_is_an_error(stored, tmp_path):
    url, _ = stored
    target = tmp_path / "x.csv"
    message = one_error(runner.invoke(app, ["results", "export", "--db", url, "--batch", "424242", "-o", str(target)]))
    assert "424242" in message
    message = one_error(runner.invoke(app, ["results", "export", "--db", url, "--scenario", "nope", "-o", str(target)]))
    assert "--scenario nope" in message and "nothing written" in message
    assert not target.exists()


def test_validate_refuses_an_unwritable_out_before_it_runs(monkeypatch, tmp_path):
    import commsim.evidence.facts

    def ran(**_):
        raise AssertionError("validate ran its facts before checking --out")

    monkeypatch.setattr(commsim.evidence.facts, "validate", ran)
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    message = one_error(runner.invoke(app, ["validate", "--quick", "--out", str(blocker / "page.html")]))
    assert str(blocker) in message and "cannot create the directory or write in it" in message


def test_calibrate_refuses_an_existing_file_before_it_runs(tmp_path):
    url = f"sqlite:///{tmp_path / 'cal.db'}"
    notes = tmp_path / "notes.toml"
    notes.write_text('title = "my notes"\n', encoding="utf-8")
    args = ["calibrate", "baseline", "--targets", "mali_dhs2018", "--trials", "1", "--db", url, "--out", str(notes)]
    message = one_error(runner.invoke(app, args))
    assert "already exists" in message and str(notes) in message
    assert notes.read_text(encoding="utf-8") == 'title = "my notes"\n'
    assert store.list_runs(store.open_store(url)).empty


@pytest.fixture
def full_disk():
    """A 256 KiB tmpfs, mounted for the test and unmounted after it (needs root, which CI is)."""
    if os.geteuid() != 0:
        pytest.fail("the full-disk tests mount a tmpfs and need root (CI runs as root)")
    mount = Path(tempfile.mkdtemp(prefix="commsim-full-"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)
        mount.rmdir()


def test_a_full_disk_leaves_no_partial_file(full_disk, stored):
    url, _ = stored
    kept = full_disk / "kept.csv"
    kept.write_text("a,b\n1,2\n", encoding="utf-8")
    with open(full_disk / "filler", "wb", buffering=0) as handle:  # fill the disk to the last block
        try:
            while handle.write(b"\0" * 4096):
                pass
        except OSError:
            pass
    for target, overwrite in ((full_disk / "export.csv", []), (kept, ["--overwrite"])):
        args = ["results", "export", "--db", url, "--out", str(target), *overwrite]
        message = one_error(runner.invoke(app, args))
        assert "No space left on device" in message and "nothing was written" in message
    assert kept.read_text(encoding="utf-8") == "a,b\n1,2\n"  # the old file stands, whole
    assert sorted(p.name for p in full_disk.iterdir()) == ["filler", "kept.csv"]  # no 0-byte or temporary file


def test_an_intervention_after_the_horizon_is_noted_not_refused(tmp_path):
    """Allowed (a longer run reaches it), but the user is told it does nothing in this run."""
    args = ["run", "donor_exit", *SMALL, "--no-store", "--out", str(tmp_path / "o")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    note = " ".join(result.stderr.split())
    assert "interventions.donor_exit starts at month 24, after the run's 12 months: it has no effect" in note
    reached = runner.invoke(app, [*args[:-2], "--months", "30", "--out", str(tmp_path / "p")])
    assert reached.exit_code == 0 and "no effect in this run" not in reached.stderr
