"""The fuzz tier: property-based tests (Hypothesis) that feed the loaders mutated scenario, experiment and targets
files, and every subcommand of the CLI mutated argument lists, against tiny districts (200 households, 3 months).

Every outcome must be a success or exit code 2 with one message naming the file or flag; never a traceback, an
exception escaping the command, a hang (a per-example alarm) or a change to the rows of a pre-filled SQLite
results database (compared after every example), and never a database password in the output.

Two tiers. The default run (`pytest tests/test_fuzz.py`, under a minute) is derandomized: the same examples every
time. The long run (`pytest -m fuzz tests/test_fuzz.py`, deselected by default) draws new examples from a seed it
prints (`fuzz seed: N`); `COMMSIM_FUZZ_SEED=N pytest -m fuzz ...` repeats it. A failure prints the falsifying
example and a `@reproduce_failure(...)` blob (print_blob); `--hypothesis-show-statistics` prints the counts of
examples and of each outcome (the `event`s below).
"""

import contextlib
import hashlib
import itertools
import math
import os
import random
import re
import signal
import sqlite3
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, event, given, seed, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from commsim.cli.app import app
from commsim.evidence.targets import TargetsError, check_targets, load_targets
from commsim.runs.experiment import ExperimentError, load_experiment
from commsim.scenario.loader import ScenarioError, flat_keys, load_scenario, to_toml

pytestmark = pytest.mark.slow  # the default fuzz tier takes about half a minute

FUZZ_SEED = int(os.environ.get("COMMSIM_FUZZ_SEED") or random.SystemRandom().randrange(2**32))
PASSWORD = "s3cretPW"  # in the PostgreSQL URLs the CLI is given: it must never be shown
QUICK = settings(
    derandomize=True,
    print_blob=True,
    deadline=None,  # the alarm below bounds each example; run times vary with the shared machine's load
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)
ALARM_S = 30  # a run of 200 households x 3 months takes ~1 s; 30x that is a hang


def long(examples: int) -> Callable[[Callable], Callable]:
    """The long tier of a property: random examples from the printed seed, behind the `fuzz` marker."""

    def wrap(test: Callable) -> Callable:
        return pytest.mark.fuzz(seed(FUZZ_SEED)(settings(QUICK, derandomize=False, max_examples=examples)(test)))

    return wrap


class Hang(Exception):
    """An example ran longer than ALARM_S."""


@contextlib.contextmanager
def alarm(seconds: int = ALARM_S) -> Iterator[None]:
    """Raise Hang in the main thread after `seconds` (interrupting a blocking system call too)."""

    def ring(signum, frame):
        raise Hang(f"no outcome within {seconds} s")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --- the arena: files and a database every example may name -------------------------------------------------

TINY_SET = {"population.households": 200, "population.villages": 10, "population.facilities": 2}
TINY_SCENARIO = {"name": "tiny", "months": 3, "population": {"households": 200, "villages": 10, "facilities": 2}}
TINY_EXPERIMENT = {
    "name": "tiny_grid",
    "scenario": "baseline",
    "months": 3,
    "replicates": 1,
    "seed": 1,
    "set": TINY_SET,
    "design": {"kind": "grid"},
    "parameters": {"groups.p_member": {"values": [0.2, 0.4]}},
    "outputs": ["mcpr"],
}
TINY_TARGETS = {
    "name": "tiny_targets",
    "months": 21,
    "replicates": 1,
    "seed": 1,
    "set": TINY_SET,
    "targets": {"mcpr": {"value": 0.16, "scale": 0.01, "weight": 1.0, "source": "Mali DHS 2018"}},
    "parameters": {"households.rate_awareness_per_month": {"low": 0.02, "high": 0.3}},
}


class Arena:
    """Fixed files (good ones, a FIFO, a symlink loop, a directory, a huge file) and a pre-filled database."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.counter = itertools.count()
        self.scenario = self.write("tiny.toml", tomli_w.dumps(TINY_SCENARIO))
        self.experiment = self.write("tiny_grid.toml", tomli_w.dumps(TINY_EXPERIMENT))
        self.targets = self.write("tiny_targets.toml", tomli_w.dumps(TINY_TARGETS))
        os.mkfifo(root / "fifo.toml")
        (root / "loop.toml").symlink_to(root / "loop.toml")
        (root / "folder.toml").mkdir()
        (root / "huge.toml").write_bytes(b"#" * (1 << 20) + b"\nmonths = 3\n")
        self.odd_files = [str(root / n) for n in ("fifo.toml", "loop.toml", "folder.toml", "huge.toml", "none.toml")]
        self.odd_files += ["/dev/zero", "/dev/null", str(root), ""]
        self.db_path = root / "results.db"
        self.db = f"sqlite:///{self.db_path}"

    def write(self, name: str, text: str | bytes) -> Path:
        path = self.root / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    def fresh(self, suffix: str = ".toml") -> Path:
        """A new path in the arena for one example's file or output."""
        return self.root / f"ex{next(self.counter)}{suffix}"


def table_rows(db: Path) -> dict[str, list[str]]:
    """Every table's rows as sorted checksums (the database's contents, independent of page layout)."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as con:
        names = [r[0] for r in con.execute("select name from sqlite_master where type = 'table' order by name")]
        return {
            name: sorted(
                hashlib.sha256(repr(row).encode()).hexdigest() for row in con.execute(f'select * from "{name}"')
            )
            for name in names
        }


@pytest.fixture(scope="module")
def arena(tmp_path_factory) -> Arena:
    """The arena, with a database holding one run, one comparison and one sweep (the rows examples must keep)."""
    place = Arena(tmp_path_factory.mktemp("fuzz"))
    runner = CliRunner()
    small = ["-n", "200", "-m", "3", "--set", "population.villages=10", "--set", "population.facilities=2"]
    for args in (
        ["run", str(place.scenario), "-m", "3", "--out", str(place.fresh("")), "--db", place.db],
        ["compare", "baseline", "hrh2030_groups", *small, "--reps", "2", "--workers", "1", "--db", place.db],
        ["sweep", str(place.experiment), "--workers", "1", "--db", place.db],
    ):
        if args[0] == "compare":
            args += ["--out", str(place.fresh(""))]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    place.before = table_rows(place.db_path)
    assert place.before["runs"], "the pre-filled database has runs"
    return place


def assert_rows_kept(arena: Arena) -> None:
    """Every row of the pre-filled database is still there, unchanged (new runs may be added)."""
    after = table_rows(arena.db_path)
    for name, rows in arena.before.items():
        missing = set(rows) - set(after.get(name, []))
        assert not missing, f"table {name}: {len(missing)} stored rows changed or lost"


# --- file mutations ---------------------------------------------------------------------------------------

ODD_NUMBERS = [math.inf, -math.inf, math.nan, 1e308, -1e308, 5e-324, 2**63, -(2**63), 2**64, 0, -1, 10**12]
ODD_STRINGS = ["", " ", "a\nb", "x\x00y", "\u202e", "é" * 90, "../../etc/passwd", "{}", "${HOME}", "a.b", "a__b"]
JUNK = st.one_of(
    st.sampled_from(ODD_NUMBERS),
    st.sampled_from(ODD_STRINGS),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def keys_of(data: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every key path of a nested dict (tables included)."""
    out = []
    for key, value in data.items():
        out.append((*prefix, key))
        if isinstance(value, dict):
            out += keys_of(value, (*prefix, key))
    return out


def set_path(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = data
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    if value is DELETE:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value


DELETE = object()


@st.composite
def mutated(draw, good: dict[str, Any]) -> dict[str, Any]:
    """A valid file's dict with a few keys changed: junk values, deletions, unknown keys."""
    data = tomllib.loads(tomli_w.dumps(good))  # a deep copy
    for _ in range(draw(st.integers(0, 3))):
        paths = keys_of(data)
        kind = draw(st.sampled_from(["junk", "delete", "unknown", "nest"]))
        if kind == "unknown" or not paths:
            base = draw(st.sampled_from(paths)) if paths and draw(st.booleans()) else ()
            set_path(data, (*base[:-1], draw(st.sampled_from(["bogus", "Months", "extends", "", "a\nb"]))), 1)
        elif kind == "delete":
            set_path(data, draw(st.sampled_from(paths)), DELETE)
        elif kind == "nest":
            value: Any = 1
            for _ in range(draw(st.integers(1, 60))):
                value = [value] if draw(st.booleans()) else {"k": value}
            set_path(data, draw(st.sampled_from(paths)), value)
        else:
            set_path(data, draw(st.sampled_from(paths)), draw(JUNK))
    return data


def toml_text(data: dict[str, Any]) -> str:
    """TOML for a dict; values TOML cannot hold (None) are dropped by tomli_w's error, so write what it can."""
    try:
        return tomli_w.dumps(data)
    except (TypeError, ValueError):
        return tomli_w.dumps({k: v for k, v in data.items() if not isinstance(v, dict)})


@st.composite
def file_text(draw, good: dict[str, Any], arena: Arena) -> str | bytes:
    """A file's text: a mutated valid file, with text-level damage now and then (duplicates, deep nesting, bad
    bytes, extends to odd places)."""
    text = toml_text(draw(mutated(good)))
    damage = draw(st.sampled_from(["none", "none", "duplicate", "deep", "bytes", "extends", "truncate"]))
    if damage == "duplicate" and text.strip():
        line = draw(st.sampled_from([ln for ln in text.splitlines() if "=" in ln] or ["months = 3"]))
        text = f"{text}\n{line}\n" if draw(st.booleans()) else f"{line}\n{text}"
    elif damage == "deep":
        depth = draw(st.sampled_from([33, 500, 3000, 5000]))
        opening, closing = ("[", "]") if draw(st.booleans()) else ("{a = ", "}")
        text = f"deep = {opening * depth}1{closing * depth}\n{text}"
    elif damage == "bytes":
        return text.encode() + draw(st.binary(min_size=1, max_size=8))
    elif damage == "extends":
        target = draw(st.sampled_from([*arena.odd_files, str(arena.scenario), "tiny.toml", "ex0.toml"]))
        text = f"extends = {tomli_w.dumps({'x': target})[4:].strip()}\n{text}"
    elif damage == "truncate":
        text = text[: draw(st.integers(0, len(text)))]
    return text


def one_message(message: str, path: Path) -> None:
    """Each line of an error names the file first, then a key or what is wrong."""
    assert message.strip(), "an empty message"
    for line in message.splitlines():
        assert line.startswith(f"{path}: "), f"a line that does not name the file: {line!r}"
        assert len(line) > len(f"{path}: "), f"a line naming only the file: {line!r}"


def finite_everywhere(values: dict[str, Any]) -> None:
    bad = {k: v for k, v in values.items() if isinstance(v, float) and not math.isfinite(v)}
    assert not bad, f"loaded with non-finite values: {bad}"


def check_scenario_file(arena: Arena, text: str | bytes) -> None:
    path = arena.write(arena.fresh().name, text)
    with alarm():
        try:
            sc = load_scenario(path)
        except ScenarioError as error:
            event("scenario refused")
            one_message(str(error), path)
            return
    event("scenario loaded")
    finite_everywhere(flat_keys(sc))
    again = arena.write(arena.fresh().name, to_toml(sc))
    assert load_scenario(again) == sc, "a loaded scenario does not round-trip through its TOML"


def check_experiment_file(arena: Arena, text: str | bytes) -> None:
    path = arena.write(arena.fresh().name, text)
    with alarm():
        try:
            plan = load_experiment(path)
        except ExperimentError as error:
            event("experiment refused")
            one_message(str(error), path)
            return
        event("experiment loaded")
        for point in range(min(len(plan.points), 20)):  # every point a sweep would run is a valid scenario
            finite_everywhere(flat_keys(load_scenario(plan.base, plan.overrides(point))))


def check_targets_file(arena: Arena, text: str | bytes) -> None:
    path = arena.write(arena.fresh().name, text)
    with alarm():
        try:
            targets = load_targets(path)
            check_targets(targets, load_scenario("baseline"))
        except TargetsError as error:
            event("targets refused")
            one_message(str(error), path)
            return
    event("targets loaded")
    assert all(math.isfinite(b.low) and math.isfinite(b.high) for b in targets.spec.parameters.values())


@settings(QUICK, max_examples=1000)
@given(data=st.data())
def test_scenario_files(arena, data):
    check_scenario_file(arena, data.draw(file_text(TINY_SCENARIO, arena)))


@long(20_000)
@given(data=st.data())
def test_scenario_files_long(arena, data):
    print(f"fuzz seed: {FUZZ_SEED}")
    check_scenario_file(arena, data.draw(file_text(TINY_SCENARIO, arena)))


@settings(QUICK, max_examples=500)
@given(data=st.data())
def test_experiment_files(arena, data):
    check_experiment_file(arena, data.draw(file_text(TINY_EXPERIMENT, arena)))


@long(10_000)
@given(data=st.data())
def test_experiment_files_long(arena, data):
    print(f"fuzz seed: {FUZZ_SEED}")
    check_experiment_file(arena, data.draw(file_text(TINY_EXPERIMENT, arena)))


@settings(QUICK, max_examples=500)
@given(data=st.data())
def test_targets_files(arena, data):
    check_targets_file(arena, data.draw(file_text(TINY_TARGETS, arena)))


@long(10_000)
@given(data=st.data())
def test_targets_files_long(arena, data):
    print(f"fuzz seed: {FUZZ_SEED}")
    check_targets_file(arena, data.draw(file_text(TINY_TARGETS, arena)))


# --- the command line -------------------------------------------------------------------------------------

HOUSEHOLDS = ["200", "150", "0", "-1", "9", str(10**20), "abc", "2e2", ""]  # valid ones stay tiny
MONTHS = ["3", "2", "0", "-1", "1201", "x", ""]
SEEDS = ["1", "0", "-1", str(2**64), "nan", "1.5"]
SET_KEYS = [
    "groups.training_coverage",
    "chws.coverage",
    "costs.chw_month_usd",
    "facilities.quality",
    "population.referral_facilities",
    "population.villages",
    "interventions.x.type",
    "interventions.x.start_month",
    "name",
    "seed",
    "bogus",
    "groups.bogus",
    "groups.p_member.x",
    "",
    "a\nb",
]
SET_VALUES = ["0.5", "inf", "nan", "1e309", "-1", "2", "10000000", '"donor_exit"', "[1]", "{}", "yes", "", "a\nb"]
DB_URLS = [
    "bogus://x",
    "sqlite:////nonexistent/dir/r.db",
    "sqlite:///",
    f"postgresql://u:{PASSWORD}@127.0.0.1:1/x",
    f"postgresql://u:{PASSWORD}@[::1/x",
    f"postgresql://u:{PASSWORD}@h:port/x",
    "",
]


def pick(options: list[str]) -> st.SearchStrategy[str]:
    """One of `options`, the first (a valid one) most often, so that most commands get far enough to run."""
    return st.sampled_from([options[0]] * len(options) + options)


@st.composite
def sets(draw) -> list[str]:
    items = draw(st.lists(st.tuples(st.sampled_from(SET_KEYS), st.sampled_from(SET_VALUES)), max_size=2))
    out = []
    for key, value in items:
        out += ["--set", f"{key}={value}" if draw(st.integers(0, 9)) else key]
    return out


@st.composite
def scenario_arg(draw, arena: Arena) -> str:
    kind = draw(st.sampled_from(["tiny", "tiny", "tiny", "shipped", "odd", "generated"]))
    if kind == "tiny":
        return str(arena.scenario)
    if kind == "shipped":
        return draw(pick(["baseline", "hrh2030_groups", "donor_exit", "no_such", "baseline.toml"]))
    if kind == "odd":
        return draw(pick(arena.odd_files))
    return str(arena.write(arena.fresh().name, draw(file_text(TINY_SCENARIO, arena))))


@st.composite
def db_args(draw, arena: Arena) -> list[str]:
    return ["--db", arena.db if draw(st.integers(0, 5)) else draw(st.sampled_from(DB_URLS))]


@st.composite
def out_arg(draw, arena: Arena, suffix: str = "") -> list[str]:
    choice = draw(st.integers(0, 5))
    if choice == 0:
        return [
            "--out",
            draw(pick(["/dev/null/x", str(arena.scenario), "/proc/nope/out", str(arena.root / "folder.toml")])),
        ]
    return ["--out", str(arena.fresh(suffix))]


@st.composite
def district(draw) -> list[str]:
    """-n and -m, tiny when valid, and the tiny district's villages and facilities."""
    args = ["-n", draw(pick(HOUSEHOLDS)), "-m", draw(pick(MONTHS))]
    return [*args, "--set", "population.villages=10", "--set", "population.facilities=2"]


@st.composite
def command(draw, arena: Arena) -> list[str]:
    """One subcommand with mostly valid, sometimes odd arguments."""
    name = draw(
        st.sampled_from(
            [
                "run",
                "compare",
                "sweep",
                "analyze",
                "validate",
                "calibrate",
                "list",
                "show",
                "export",
                "scenarios",
                "phases",
            ]
        )
    )
    extra = draw(st.sampled_from([[]] * 12 + [["--bogus"], ["extra-arg"], ["--help"]]))
    if name == "run":
        args = ["run", draw(scenario_arg(arena)), *draw(district()), *draw(sets()), *draw(out_arg(arena))]
        args += draw(st.sampled_from([[], ["--seed", draw(pick(SEEDS))], ["--backend", draw(pick(["python", "x"]))]]))
        args += draw(st.one_of(db_args(arena), st.just(["--no-store"])))
    elif name == "compare":
        arms = draw(st.lists(scenario_arg(arena), min_size=1, max_size=3))
        reps = draw(pick(["1", "2", "0", "-1", "10001", "x"]))
        args = ["compare", *arms, *draw(district()), "--reps", reps, "--workers", draw(pick(["1", "1", "0", "x"]))]
        args += [*draw(sets()), *draw(db_args(arena)), *draw(out_arg(arena))]
        args += draw(st.sampled_from([[], ["--baseline", draw(scenario_arg(arena))], ["--seed", draw(pick(SEEDS))]]))
    elif name == "sweep":
        experiment = draw(st.sampled_from(["tiny", "generated", "odd", "shipped"]))
        if experiment == "tiny":
            target = str(arena.experiment)
        elif experiment == "generated":
            target = str(arena.write(arena.fresh().name, draw(file_text(TINY_EXPERIMENT, arena))))
        elif experiment == "odd":
            target = draw(pick(arena.odd_files))
        else:
            target = draw(pick(["no_such_experiment", "donor_exit_timing.tom"]))
        args = ["sweep", target, "--workers", draw(pick(["1", "1", "0"])), *draw(db_args(arena))]
        args += draw(st.sampled_from([[], ["--dask-local", "0"], ["--scheduler", "not-a-url"]]))
    elif name == "analyze":
        target = draw(pick(["3", "999", "0", "-1", "abc", str(arena.experiment), "no_such", str(arena.scenario), ""]))
        args = ["analyze", target, *draw(db_args(arena)), *draw(out_arg(arena))]
        args += draw(st.sampled_from([[], ["--output", draw(pick(["mcpr", "bogus", ""]))], ["-f", "xlsx"]]))
    elif name == "validate":  # a full validation takes minutes: only arguments it must refuse before running
        args = ["validate", draw(pick(["--bogus", "extra", "--quick=3", "--out"]))]
        extra = []
    elif name == "calibrate":
        targets = draw(st.sampled_from(["tiny", "generated", "odd", "no_such"]))
        if targets == "tiny":
            target = str(arena.targets)
        elif targets == "generated":
            target = str(arena.write(arena.fresh().name, draw(file_text(TINY_TARGETS, arena))))
        elif targets == "odd":
            target = draw(pick(arena.odd_files))
        else:
            target = "no_such_targets"
        args = ["calibrate", draw(scenario_arg(arena)), "--targets", target, "--trials", draw(pick(["1", "0", "x"]))]
        args += [*draw(db_args(arena)), *draw(out_arg(arena, ".toml"))]
        args += draw(st.sampled_from([[], ["--seed", draw(pick(["0", "-1", "x"]))], ["--workers", "0"]]))
    elif name in ("list", "show", "export"):
        args = ["results", name]
        if name == "show":
            args += [draw(pick(["1", "0", "-1", str(10**30), "x", ""]))]
            args += draw(st.sampled_from([[], ["--toml"]]))
        else:
            args += draw(st.sampled_from([[], ["--scenario", draw(pick(["tiny", "", "a\nb", "%", "'"]))]]))
            args += draw(st.sampled_from([[], ["--batch", draw(pick(["1", "-1", str(10**30), "x"]))]]))
        if name == "list":
            args += draw(st.sampled_from([[], ["--limit", draw(pick(["1", "0", "-1", str(10**30)]))]]))
        if name == "export":
            args += [*draw(out_arg(arena, ".csv")), *draw(st.sampled_from([[], ["-f", "parquet"], ["-f", "xml"]]))]
        args += draw(db_args(arena))
    else:
        args = [name]
    return args + extra


USAGE = re.compile(r"(Usage:|Try '.* --help'|─ Error ─)")  # click's usage errors, plain or in a rich panel


def check_command(arena: Arena, args: list[str], named: Path | None = None) -> None:
    """Run one command: success, or exit 2 with one message (naming `named`, the file at fault, when given)."""
    with alarm(), contextlib.chdir(arena.root):  # a default output path lands in the arena, not the checkout
        result = CliRunner().invoke(app, args)
    output = result.output
    event(f"{args[0]} exit {result.exit_code}")
    assert result.exit_code in (0, 2), f"exit code {result.exit_code}: {output[-2000:]}"
    escaped = result.exception
    assert escaped is None or isinstance(escaped, SystemExit), f"an exception escaped: {escaped!r}\n{output[-2000:]}"
    assert "Traceback" not in output, output[-3000:]
    assert PASSWORD not in output, f"a database password is shown: {output[-2000:]}"
    if result.exit_code == 2:
        ours = output.count("error: ")
        assert ours == 1 or (ours == 0 and USAGE.search(output)), f"not one message: {output[-2000:]}"
        if ours:
            message = output[output.index("error: ") + len("error: ") :].strip()
            bare = re.fullmatch(r"'[^']*'|\[Errno [^]]*\].*|None", message)  # a KeyError's or OSError's str
            assert len(message) > 3 and not bare, f"a message that names nothing: {message}"
            assert named is None or str(named) in message, f"the message does not name {named}: {message}"
    assert_rows_kept(arena)


@settings(QUICK, max_examples=400)
@given(data=st.data())
def test_cli_arguments(arena, data):
    check_command(arena, data.draw(command(arena)))


@long(3000)
@given(data=st.data())
def test_cli_arguments_long(arena, data):
    print(f"fuzz seed: {FUZZ_SEED}")
    check_command(arena, data.draw(command(arena)))


@st.composite
def command_with_a_bad_file(draw, arena: Arena) -> tuple[list[str], Path]:
    """A valid command whose one file (scenario, experiment or targets) is a mutated one."""
    kind = draw(st.sampled_from(["run", "compare", "sweep", "calibrate"]))
    good = {"sweep": TINY_EXPERIMENT, "calibrate": TINY_TARGETS}.get(kind, TINY_SCENARIO)
    path = arena.write(arena.fresh().name, draw(file_text(good, arena)))
    small = ["-n", "200", "-m", "3", "--set", "population.villages=10", "--set", "population.facilities=2"]
    db = ["--db", arena.db]
    if kind == "run":
        return ["run", str(path), *small, "--out", str(arena.fresh("")), *db], path
    if kind == "compare":
        return [
            "compare",
            "baseline",
            str(path),
            *small,
            "--reps",
            "1",
            "--workers",
            "1",
            *db,
            "--out",
            str(arena.fresh("")),
        ], path
    if kind == "sweep":
        return ["sweep", str(path), "--workers", "1", *db], path
    return [
        "calibrate",
        str(arena.scenario),
        "--targets",
        str(path),
        "--trials",
        "1",
        *db,
        "--out",
        str(arena.fresh(".toml")),
    ], path


@settings(QUICK, max_examples=60)
@given(data=st.data())
def test_cli_bad_files(arena, data):
    check_command(arena, *data.draw(command_with_a_bad_file(arena)))


@long(1000)
@given(data=st.data())
def test_cli_bad_files_long(arena, data):
    print(f"fuzz seed: {FUZZ_SEED}")
    check_command(arena, *data.draw(command_with_a_bad_file(arena)))
